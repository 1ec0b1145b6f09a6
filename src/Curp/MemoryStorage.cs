namespace CurpStore.Curp;

/// <summary>
/// Applies <see cref="Ready"/> batches to an in-memory copy of what a member persists, and hands it back as a
/// <see cref="PersistentState"/> for a restart (etcd-raft's MemoryStorage). The simulator's disks and the server's
/// memory-only storage are this; the WAL-backed store keeps the same semantics on disk. Not thread-safe.
/// </summary>
public sealed class MemoryStorage
{
    private readonly List<LogEntry> entries = [];
    private readonly Dictionary<ProposeId, PooledCommand> pool = [];
    private HardState hardState;
    private Snapshot? snapshot;

    public void Persist(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.Snapshot is { } newSnapshot)
        {
            snapshot = newSnapshot;
            entries.RemoveAll(e => e.Index <= newSnapshot.Index);
        }
        if (!ready.Entries.IsEmpty)
        {
            // Appended entries replace everything from their first index on (a follower's log was cut back).
            var first = ready.Entries[0].Index;
            entries.RemoveAll(e => e.Index >= first);
            entries.AddRange(ready.Entries);
        }
        if (ready.HardState is { } state)
        {
            hardState = state;
        }
        foreach (var added in ready.PoolAdded)
        {
            pool[added.Id] = added;
        }
        foreach (var removed in ready.PoolRemoved)
        {
            pool.Remove(removed);
        }
    }

    public PersistentState Load() =>
        new(hardState, snapshot, [.. entries], [.. pool.Values.OrderBy(p => p.Id, ProposeIdComparer.Instance)]);
}
