namespace CurpStore.Store.Tests;

/// <summary>The behaviour suite on the FASTER engine; its restarts checkpoint, close and recover the engine.</summary>
[TestClass]
public sealed class FasterEngineStoreTests : EtcdStoreSuite
{
    private readonly FasterEngineDirectories directories = new();

    protected override IKvEngine CreateEngine() => directories.Create();

    protected override IKvEngine Reopen(IKvEngine engine) => FasterEngineDirectories.Reopen(engine);

    protected override void OnEnginesDisposed() => directories.Delete();
}
