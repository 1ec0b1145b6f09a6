namespace CurpStore.Store.Tests;

/// <summary>
/// The behaviour suite of the etcd state machine, written once and run against every engine: a concrete test class
/// per engine supplies <see cref="CreateEngine"/> (and <see cref="Reopen"/> when the engine really persists). Expected
/// values are etcd 3.5's documented behaviour; the doubtful ones were checked against a real etcd (noted per test).
/// </summary>
public abstract partial class EtcdStoreSuite : EngineTestBase
{
    internal StoreDriver NewStore(EtcdStoreOptions? options = null) => new(Track(CreateEngine()), options);

    internal StoreDriver Restart(StoreDriver store, EtcdStoreOptions? options = null) => new(Track(Reopen(store.Engine)), options);

    internal static byte[] B(string text) => StoreDriver.B(text);

    /// <summary>Runs a randomized check for seeds block*1000 .. block*1000+count-1; a failure names its seed, so it can be
    /// replayed alone. Engines are disposed after each seed.</summary>
    internal void ForEachSeed(int block, int count, Action<int> check)
    {
        for (var seed = block * 1000; seed < (block * 1000) + count; seed++)
        {
            try
            {
                check(seed);
            }
            catch (Exception failure) when (failure is not AssertInconclusiveException)
            {
                throw new AssertFailedException($"seed {seed}: {failure.Message}", failure);
            }
            finally
            {
                DisposeEngines(); // a persistent engine per seed must not pile up
            }
        }
    }

    internal static List<string> Keys(IEnumerable<KeyValue> kvs) => StoreDriver.Keys(kvs);
}
