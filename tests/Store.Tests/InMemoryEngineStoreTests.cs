namespace CurpStore.Store.Tests;

/// <summary>The behaviour suite on <see cref="InMemoryKvEngine"/>.</summary>
[TestClass]
public sealed class InMemoryEngineStoreTests : EtcdStoreSuite
{
    protected override IKvEngine CreateEngine() => new InMemoryKvEngine();
}
