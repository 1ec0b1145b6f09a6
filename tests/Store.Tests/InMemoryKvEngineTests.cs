namespace CurpStore.Store.Tests;

/// <summary>The engine contract on <see cref="InMemoryKvEngine"/>.</summary>
[TestClass]
public sealed class InMemoryKvEngineTests : KvEngineContract
{
    protected override IKvEngine CreateEngine() => new InMemoryKvEngine();
}
