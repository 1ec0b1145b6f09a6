using BenchmarkDotNet.Attributes;
using CurpStore.Store;
using CurpStore.Store.Faster;
using FASTER.core;

namespace CurpStore.Bench.Store;

/// <summary>
/// The FASTER engine's checkpoint kind, measured on the workload it serves: a store already holding 200,000 keys of
/// 256 bytes (about 70 MB of log, all of it in memory), then 10,000 puts and one checkpoint per invocation. Fold-over
/// writes only the log pages that are new since the last checkpoint; snapshot writes the whole in-memory part of the
/// log to a side file each time. Run: <c>dotnet run -c Release --project bench -- --filter '*Checkpoint*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CheckpointBenchmarks
{
    public const int PutsPerCheckpoint = 10_000;
    private const int Keys = 200_000;

    private StoreUnderTest store = null!;
    private byte[] value = null!;
    private int next;

    [Params(CheckpointType.FoldOver, CheckpointType.Snapshot)]
    public CheckpointType Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        value = StoreUnderTest.Value(256, 2);
        store = StoreUnderTest.Filled(EngineKind.Faster, Keys, value, new FasterKvEngineOptions { CheckpointKind = Kind });
    }

    [GlobalCleanup]
    public void Cleanup() => store.Dispose();

    [Benchmark(OperationsPerInvoke = PutsPerCheckpoint)]
    public void PutsThenCheckpoint()
    {
        for (var i = 0; i < PutsPerCheckpoint; i++)
        {
            store.Apply(new PutRequest { Key = StoreUnderTest.Key(next++ % Keys), Value = value });
        }
        store.Engine.Checkpoint();
    }
}
