#if FASTERLOG
using BenchmarkDotNet.Attributes;
using FASTER.core;

namespace CurpStore.Bench.Wal;

/// <summary>
/// The same workload as <see cref="WalAppendBenchmarks"/> on FASTER's FasterLog (Microsoft.FASTER.Core 2.6.5):
/// each appender awaits <c>EnqueueAndWaitForCommitAsync</c>, and <c>AutoCommit</c> issues the commits, FasterLog's own
/// group commit. On Linux its default device opens files write-through and flushes each write to disk, so "committed"
/// means durable as for our WAL.
/// </summary>
/// <remarks>
/// Compiled only with the <c>FASTERLOG</c> symbol: the comparison is settled (the WAL is the project's own format,
/// measured faster at every concurrency here, and FasterLog has no suffix truncation, which a Raft log needs), so the
/// default run skips it. Microsoft.FASTER.Core reaches bench/Bench.csproj through src/Store.Faster; to rerun the
/// comparison, add <c>FASTERLOG</c> to <c>DefineConstants</c> and run with <c>--filter '*Wal*'</c>.
/// </remarks>
[Config(typeof(WalBenchmarkConfig))]
[MemoryDiagnoser]
public class FasterLogAppendBenchmarks
{
    private string directory = null!;
    private IDevice device = null!;
    private FasterLog log = null!;
    private byte[] payload = null!;

    [Params(1, 16, 256)]
    public int Appenders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        directory = WalBenchmarkSupport.CreateScratchDirectory("fasterlog");
        device = Devices.CreateLogDevice(Path.Combine(directory, "hlog.log"));
        log = new FasterLog(new FasterLogSettings { LogDevice = device, LogCommitDir = directory, AutoCommit = true });
        payload = WalBenchmarkSupport.Payload();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        log.Dispose();
        device.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = WalBenchmarkSupport.RecordsPerInvocation)]
    public Task FasterLogCommit() =>
        WalBenchmarkSupport.RunAppenders(Appenders, async () => await log.EnqueueAndWaitForCommitAsync(payload));
}
#endif
