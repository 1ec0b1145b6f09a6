using System.Collections.Immutable;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>
/// Wraps a member's state machine to record what the checkers need, for any state machine: each command applied
/// (a second apply of the same ProposeId is a duplicate) and the revision each write was applied at. The record is
/// part of the snapshot, so a member restored from one keeps it.
/// </summary>
public sealed class CheckingStateMachine(IStateMachine inner, Func<ICommand, ICommandResult, long> appliedRevision) : IStateMachine
{
    private ImmutableDictionary<ProposeId, long> appliedRevisions = ImmutableDictionary<ProposeId, long>.Empty;

    public IStateMachine Inner { get; } = inner;

    public long DuplicateApplies { get; private set; }

    /// <summary>The revision each command was applied at (0 when it changed nothing).</summary>
    public IReadOnlyDictionary<ProposeId, long> AppliedRevisions => appliedRevisions;

    public ICommandResult Apply(ICommand command, ulong index)
    {
        var result = Inner.Apply(command, index);
        if (appliedRevisions.ContainsKey(command.Id))
        {
            DuplicateApplies++;
        }
        appliedRevisions = appliedRevisions.SetItem(command.Id, appliedRevision(command, result));
        return result;
    }

    public ICommandResult Speculate(ICommand command, ulong index) => Inner.Speculate(command, index);

    public void DiscardSpeculation() => Inner.DiscardSpeculation();

    public ICommandResult Read(ICommand command) => Inner.Read(command);

    public IStateSnapshot TakeSnapshot() => new CheckedSnapshot(Inner.TakeSnapshot(), appliedRevisions);

    public void RestoreSnapshot(IStateSnapshot snapshot)
    {
        var checkedSnapshot = (CheckedSnapshot)snapshot;
        Inner.RestoreSnapshot(checkedSnapshot.Inner);
        appliedRevisions = checkedSnapshot.AppliedRevisions;
    }

    private sealed record CheckedSnapshot(IStateSnapshot Inner, ImmutableDictionary<ProposeId, long> AppliedRevisions) : IStateSnapshot;
}
