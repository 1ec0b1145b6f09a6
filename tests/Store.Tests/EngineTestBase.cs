namespace CurpStore.Store.Tests;

/// <summary>
/// What every engine-parameterized suite shares: a concrete class per engine supplies <see cref="CreateEngine"/> and,
/// when the engine really persists, <see cref="Reopen"/>; the engines a test opened are disposed at its end.
/// </summary>
public abstract class EngineTestBase
{
    private readonly List<IKvEngine> engines = [];

    /// <summary>A fresh, empty engine.</summary>
    protected abstract IKvEngine CreateEngine();

    /// <summary>Models a restart: returns an engine holding what <paramref name="engine"/> committed. An in-memory
    /// engine is simply reused; a persistent one checkpoints, closes and recovers.</summary>
    protected virtual IKvEngine Reopen(IKvEngine engine) => engine;

    [TestCleanup]
    public void DisposeEngines()
    {
        foreach (var engine in engines)
        {
            engine.Dispose();
        }
        engines.Clear();
        OnEnginesDisposed();
    }

    /// <summary>Runs after every engine of the test (or seed) was disposed: a persistent engine's directory can go.</summary>
    protected virtual void OnEnginesDisposed()
    {
    }

    private protected IKvEngine Track(IKvEngine engine)
    {
        if (!engines.Contains(engine))
        {
            engines.Add(engine);
        }
        return engine;
    }
}
