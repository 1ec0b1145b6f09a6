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
            entries.RemoveRange(0, FirstAtOrAfter(newSnapshot.Index + 1));
        }
        if (!ready.Entries.IsEmpty)
        {
            // Appended entries replace everything from their first index on (a follower's log was cut back).
            var cut = FirstAtOrAfter(ready.Entries[0].Index);
            entries.RemoveRange(cut, entries.Count - cut);
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

    /// <summary>The position of the first entry whose index is at least <paramref name="index"/>: entries are kept in
    /// index order, so a binary search (a scan of the whole retained log on every append cost a member a tenth of its
    /// CPU under load).</summary>
    private int FirstAtOrAfter(ulong index)
    {
        int low = 0, high = entries.Count;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (entries[middle].Index < index)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    public PersistentState Load() =>
        new(hardState, snapshot, [.. entries], [.. pool.Values.OrderBy(p => p.Id, ProposeIdComparer.Instance)]);
}
