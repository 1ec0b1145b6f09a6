namespace CurpStore.Curp;

/// <summary>
/// The replicated state machine under the core (the etcd store in the server, a small KV model in the simulator).
/// The core calls it from its single thread only.
/// </summary>
/// <remarks>
/// Speculation: on the leader every command that enters the log is first passed to <see cref="Speculate"/> in log
/// order, so the state machine can keep an overlay of not-yet-applied effects and answer exactly what
/// <see cref="Apply"/> will later produce at the same index (including revision numbers). When the uncommitted tail is
/// abandoned (leadership lost, log truncated) the core calls <see cref="DiscardSpeculation"/>; a new leader
/// re-speculates its own uncommitted tail before serving.
/// </remarks>
public interface IStateMachine
{
    /// <summary>Applies a committed command, in log order, exactly once. Returns its result.</summary>
    ICommandResult Apply(ICommand command, ulong index);

    /// <summary>Predicts the result <paramref name="command"/> will have when applied at <paramref name="index"/>, on top of
    /// every earlier entry (applied or speculated). Must not change what <see cref="Read"/> sees.</summary>
    ICommandResult Speculate(ICommand command, ulong index);

    /// <summary>Forgets every speculated effect that was not applied yet.</summary>
    void DiscardSpeculation();

    /// <summary>Serves a read-only command from the applied state.</summary>
    ICommandResult Read(ICommand command);

    /// <summary>An immutable image of the applied state (for log compaction and InstallSnapshot).</summary>
    IStateSnapshot TakeSnapshot();

    /// <summary>Replaces the whole state with a snapshot; drops any speculation.</summary>
    void RestoreSnapshot(IStateSnapshot snapshot);
}
