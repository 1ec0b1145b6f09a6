using CurpStore.Curp;

namespace CurpStore.Server.Hosting;

/// <summary>
/// Told about every change of the applied state, on the host's loop thread, right after it happened (the watch hub
/// takes the events of each applied command this way). Implementations must be cheap and must not block: the loop
/// applies, persists and sends for the whole member.
/// </summary>
public interface IAppliedStateObserver
{
    /// <summary><paramref name="command"/> was applied at <paramref name="index"/>.</summary>
    void OnApplied(ICommand command, ulong index);

    /// <summary>The whole state was replaced by a snapshot (from the leader, or at start).</summary>
    void OnRestored();
}

/// <summary>Passes every call to the real state machine and reports applies and restores to an observer. The core
/// applies entries deep inside Step and Advance, several per turn, so this is the one place that sees each of them. It is
/// also where the periodic snapshot's image can go straight to storage (<paramref name="writeSnapshot"/>): the core asks
/// for the image from inside its own step, on the loop thread, before anything else is applied.</summary>
internal sealed class ObservedStateMachine(IStateMachine inner, IAppliedStateObserver? observer, Func<IStateSnapshot>? writeSnapshot = null) : IStateMachine
{
    public ICommandResult Apply(ICommand command, ulong index)
    {
        var result = inner.Apply(command, index);
        observer?.OnApplied(command, index);
        return result;
    }

    public ICommandResult Speculate(ICommand command, ulong index) => inner.Speculate(command, index);

    public void DiscardSpeculation() => inner.DiscardSpeculation();

    public ICommandResult Read(ICommand command) => inner.Read(command);

    public IStateSnapshot TakeSnapshot() => writeSnapshot is null ? inner.TakeSnapshot() : writeSnapshot();

    public void RestoreSnapshot(IStateSnapshot snapshot)
    {
        inner.RestoreSnapshot(snapshot);
        observer?.OnRestored();
    }
}

/// <summary>Several observers told in turn (the watch hub, the simple-token keeper).</summary>
public sealed class AppliedStateObservers(params IAppliedStateObserver[] observers) : IAppliedStateObserver
{
    public void OnApplied(ICommand command, ulong index)
    {
        foreach (var observer in observers)
        {
            observer.OnApplied(command, index);
        }
    }

    public void OnRestored()
    {
        foreach (var observer in observers)
        {
            observer.OnRestored();
        }
    }
}
