using System.Globalization;
using System.Text;
using CurpStore.Curp;
using CurpStore.Store;
using CurpStore.Store.Faster;

namespace CurpStore.Bench.Store;

/// <summary>The engines the store benchmarks compare.</summary>
public enum EngineKind
{
    InMemory,
    Faster,
}

/// <summary>
/// An <see cref="EtcdStateMachine"/> on one engine, driven the way the host drives it: every write gets the next log
/// index and a fresh propose id. A FASTER engine lives in a scratch directory of its own, removed on dispose unless the
/// caller named the directory.
/// </summary>
public sealed class StoreUnderTest : IDisposable
{
    private readonly string? scratchDirectory;
    private ulong sequence;

    public StoreUnderTest(EngineKind kind, FasterKvEngineOptions? options = null)
    {
        if (kind == EngineKind.Faster)
        {
            scratchDirectory = Path.Combine(Path.GetTempPath(), "curpstore-bench", $"faster-{Guid.NewGuid():N}");
            Engine = FasterKvEngine.Open(scratchDirectory, options);
        }
        else
        {
            Engine = new InMemoryKvEngine();
        }
        Machine = new EtcdStateMachine(Engine);
        NextIndex = Machine.AppliedIndex + 1;
    }

    /// <summary>Opens (creates or recovers) a FASTER engine in <paramref name="directory"/>, which stays.</summary>
    public StoreUnderTest(string directory, FasterKvEngineOptions? options = null)
    {
        Engine = FasterKvEngine.Open(directory, options);
        Machine = new EtcdStateMachine(Engine);
        NextIndex = Machine.AppliedIndex + 1;
    }

    /// <summary>A store holding keys 0..<paramref name="keys"/>-1 with <paramref name="value"/>, checkpointed.</summary>
    public static StoreUnderTest Filled(EngineKind kind, int keys, byte[] value, FasterKvEngineOptions? options = null)
    {
        var store = new StoreUnderTest(kind, options);
        store.PutInTxns(0, keys, value);
        store.Engine.Checkpoint();
        return store;
    }

    public IKvEngine Engine { get; }

    public EtcdStateMachine Machine { get; }

    public ulong NextIndex { get; private set; }

    /// <summary>A key of a tree of prefixes: 100 keys share <c>key/NNNNNN/</c>.</summary>
    public static byte[] Key(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"key/{i / 100:D6}/{i % 100:D2}"));

    public static byte[] PrefixOf(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"key/{i / 100:D6}/"));

    public static byte[] Value(int sizeBytes, int seed)
    {
        var value = new byte[sizeBytes];
        new Random(seed).NextBytes(value);
        return value;
    }

    public ICommandResult Apply(EtcdRequest request) => Machine.Apply(new EtcdCommand(new ProposeId(1, ++sequence), request), NextIndex++);

    /// <summary>Puts keys <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 in txns of up
    /// to etcd's 128 operations, one log index per txn.</summary>
    public void PutInTxns(int first, int count, byte[] value)
    {
        for (var start = first; start < first + count; start += 128)
        {
            var end = Math.Min(first + count, start + 128);
            var puts = new List<RequestOp>(end - start);
            for (var i = start; i < end; i++)
            {
                puts.Add(new PutRequest { Key = Key(i), Value = value });
            }
            if (Apply(new TxnRequest { Success = puts }) is EtcdError error)
            {
                throw new InvalidOperationException($"a fill txn failed: {error}");
            }
        }
    }

    public void Dispose()
    {
        Engine.Dispose();
        if (scratchDirectory is not null && Directory.Exists(scratchDirectory))
        {
            Directory.Delete(scratchDirectory, recursive: true);
        }
    }
}
