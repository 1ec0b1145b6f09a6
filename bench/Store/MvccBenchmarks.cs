using BenchmarkDotNet.Attributes;
using CurpStore.Store;

namespace CurpStore.Bench.Store;

/// <summary>
/// MVCC throughput through <see cref="EtcdStateMachine"/> on the FASTER engine against the in-memory one: puts of
/// 256-byte values on 10,000 keys (each a new revision, one log index per put, a checkpoint every 10,000 applied
/// commands as a server would take one at its snapshot count), and ranges of one key and of a 100-key prefix on a store
/// holding those keys. Run: <c>dotnet run -c Release --project bench -- --filter '*Mvcc*'</c>.
/// </summary>
[MemoryDiagnoser]
public class MvccBenchmarks
{
    public const int Puts = 100_000;
    public const int Keys = 10_000;
    public const int SingleKeyRanges = 10_000;
    public const int PrefixRanges = 1_000;
    private const int CheckpointEvery = 10_000;

    private StoreUnderTest putStore = null!;
    private StoreUnderTest readStore = null!;
    private byte[] value = null!;
    private RangeRequest[] singleKeyRanges = null!;
    private RangeRequest[] prefixRanges = null!;

    [Params(EngineKind.InMemory, EngineKind.Faster)]
    public EngineKind Engine { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        value = StoreUnderTest.Value(256, 1);
        readStore = StoreUnderTest.Filled(Engine, Keys, value);
        var random = new Random(7);
        singleKeyRanges = [.. Enumerable.Range(0, SingleKeyRanges).Select(_ => new RangeRequest { Key = StoreUnderTest.Key(random.Next(Keys)) })];
        prefixRanges = [.. Enumerable.Range(0, PrefixRanges).Select(_ => RangeOfPrefix(StoreUnderTest.PrefixOf(random.Next(Keys))))];
    }

    [GlobalCleanup]
    public void Cleanup() => readStore.Dispose();

    [IterationSetup(Target = nameof(Put))]
    public void NewPutStore() => putStore = new StoreUnderTest(Engine);

    [IterationCleanup(Target = nameof(Put))]
    public void DisposePutStore() => putStore.Dispose();

    [Benchmark(OperationsPerInvoke = Puts)]
    public void Put()
    {
        for (var i = 0; i < Puts; i++)
        {
            putStore.Apply(new PutRequest { Key = StoreUnderTest.Key(i % Keys), Value = value });
            if ((i + 1) % CheckpointEvery == 0)
            {
                putStore.Engine.Checkpoint();
            }
        }
    }

    [Benchmark(OperationsPerInvoke = SingleKeyRanges)]
    public int RangeSingleKey()
    {
        var found = 0;
        foreach (var range in singleKeyRanges)
        {
            found += ((RangeResponse)readStore.Machine.Read(range)).Kvs.Count;
        }
        return Expect(found, SingleKeyRanges);
    }

    [Benchmark(OperationsPerInvoke = PrefixRanges)]
    public int RangePrefix100()
    {
        var found = 0;
        foreach (var range in prefixRanges)
        {
            found += ((RangeResponse)readStore.Machine.Read(range)).Kvs.Count;
        }
        return Expect(found, PrefixRanges * 100);
    }

    /// <summary>etcd's prefix range: [prefix, prefix with its last byte incremented).</summary>
    private static RangeRequest RangeOfPrefix(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        end[^1]++;
        return new RangeRequest { Key = prefix, RangeEnd = end };
    }

    private static int Expect(int found, int expected) =>
        found == expected ? found : throw new InvalidOperationException($"ranges found {found} keys, expected {expected}");
}
