using BenchmarkDotNet.Attributes;
using CurpStore.Wal;

namespace CurpStore.Bench.Wal;

/// <summary>
/// Group commit of the project's own WAL: durable appends per second of 256-byte records with 1, 16 and 256
/// concurrent appenders, fsync on (every append waits for the fsync that covers it). The target is that 256
/// appenders reach at least 50 times the rate of one, which only batching many records per fsync can give.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*Wal*'</c>.
/// </summary>
[Config(typeof(WalBenchmarkConfig))]
[MemoryDiagnoser]
public class WalAppendBenchmarks
{
    private string directory = null!;
    private WriteAheadLog wal = null!;
    private byte[] payload = null!;

    [Params(1, 16, 256)]
    public int Appenders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        directory = WalBenchmarkSupport.CreateScratchDirectory("wal");
        wal = WriteAheadLog.Open(directory);
        payload = WalBenchmarkSupport.Payload();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        wal.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = WalBenchmarkSupport.RecordsPerInvocation)]
    public Task CurpStoreWal() => WalBenchmarkSupport.RunAppenders(Appenders, async () => await wal.AppendAsync(1, payload));
}
