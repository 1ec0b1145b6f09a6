namespace CurpStore.Curp;

/// <summary>
/// The in-memory Raft log of one member: a snapshot point (index and term of the last compacted entry) followed by
/// entries. Entries at or after <see cref="UnstableFrom"/> are not yet persisted by the host.
/// </summary>
public sealed class RaftLog
{
    private readonly List<LogEntry> entries = [];

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    /// <summary>First index not yet handed to the host for persistence.</summary>
    public ulong UnstableFrom { get; private set; } = 1;

    public ulong FirstIndex => SnapshotIndex + 1;

    public ulong LastIndex => SnapshotIndex + (ulong)entries.Count;

    public ulong LastTerm => entries.Count == 0 ? SnapshotTerm : entries[^1].Term;

    /// <summary>Highest index persisted by the host.</summary>
    public ulong StableIndex => UnstableFrom - 1;

    public int Count => entries.Count;

    /// <summary>The term of the entry at <paramref name="index"/>, or null when compacted away or beyond the end.</summary>
    public ulong? TermAt(ulong index)
    {
        if (index == SnapshotIndex)
        {
            return SnapshotTerm;
        }
        if (index < SnapshotIndex || index > LastIndex)
        {
            return null;
        }
        return entries[(int)(index - FirstIndex)].Term;
    }

    public LogEntry Entry(ulong index)
    {
        if (index < FirstIndex || index > LastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"log holds [{FirstIndex}, {LastIndex}]");
        }
        return entries[(int)(index - FirstIndex)];
    }

    /// <summary>Up to <paramref name="maxCount"/> entries starting at <paramref name="from"/>.</summary>
    public List<LogEntry> Slice(ulong from, int maxCount)
    {
        if (from > LastIndex)
        {
            return [];
        }
        var start = (int)(from - FirstIndex);
        return entries.GetRange(start, Math.Min(maxCount, entries.Count - start));
    }

    public IEnumerable<LogEntry> EntriesFrom(ulong from)
    {
        for (var index = Math.Max(from, FirstIndex); index <= LastIndex; index++)
        {
            yield return entries[(int)(index - FirstIndex)];
        }
    }

    public void Append(LogEntry entry)
    {
        if (entry.Index != LastIndex + 1)
        {
            throw new InvalidOperationException($"entry {entry.Index} does not follow the last index {LastIndex}");
        }
        entries.Add(entry);
    }

    /// <summary>Drops every entry after <paramref name="index"/> (a follower's log disagreed with its leader's).</summary>
    public void TruncateAfter(ulong index)
    {
        if (index < SnapshotIndex)
        {
            throw new InvalidOperationException($"cannot truncate to {index}: compacted up to {SnapshotIndex}");
        }
        if (index >= LastIndex)
        {
            return;
        }
        entries.RemoveRange((int)(index - SnapshotIndex), (int)(LastIndex - index));
        UnstableFrom = Math.Min(UnstableFrom, index + 1);
    }

    /// <summary>Forgets entries up to <paramref name="index"/> inclusive; they live on in a snapshot.</summary>
    public void CompactTo(ulong index)
    {
        if (index <= SnapshotIndex)
        {
            return;
        }
        if (index > LastIndex)
        {
            throw new InvalidOperationException($"cannot compact to {index}: the log ends at {LastIndex}");
        }
        var term = TermAt(index)!.Value;
        entries.RemoveRange(0, (int)(index - SnapshotIndex));
        SnapshotIndex = index;
        SnapshotTerm = term;
        UnstableFrom = Math.Max(UnstableFrom, index + 1);
    }

    /// <summary>Replaces the whole log by a snapshot point (InstallSnapshot, or restart from a snapshot).</summary>
    public void ResetTo(ulong snapshotIndex, ulong snapshotTerm)
    {
        entries.Clear();
        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        UnstableFrom = snapshotIndex + 1;
    }

    /// <summary>The host has persisted everything up to <paramref name="index"/>.</summary>
    public void MarkStable(ulong index)
    {
        if (index >= UnstableFrom && index <= LastIndex)
        {
            UnstableFrom = index + 1;
        }
    }

    /// <summary>The first index holding <paramref name="term"/> at or before <paramref name="atOrBefore"/>
    /// (for the rejection hint of fast backtracking).</summary>
    public ulong FirstIndexOfTermBefore(ulong term, ulong atOrBefore)
    {
        var index = Math.Min(atOrBefore, LastIndex);
        while (index > FirstIndex && TermAt(index - 1) == term)
        {
            index--;
        }
        return index;
    }

    /// <summary>The last index holding <paramref name="term"/>, or null (the leader's side of fast backtracking).</summary>
    public ulong? LastIndexOfTerm(ulong term)
    {
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (entries[i].Term == term)
            {
                return entries[i].Index;
            }
            if (entries[i].Term < term)
            {
                return null;
            }
        }
        return null;
    }

    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);
}
