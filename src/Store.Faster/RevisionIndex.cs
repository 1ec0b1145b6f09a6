namespace CurpStore.Store.Faster;

/// <summary>
/// The live revisions in ascending order, for ordered scans (FASTER's hash index has no order; etcd keeps its
/// treeIndex in memory for the same reason). One growable array of 16-byte structs, no object per entry: a million
/// records cost 16-32 MB. New revisions only grow, so an add is an append; compaction removes many at once in one pass.
/// </summary>
internal sealed class RevisionIndex
{
    private Revision[] items = [];

    public int Count { get; private set; }

    public Revision this[int position] => position < Count ? items[position] : throw new ArgumentOutOfRangeException(nameof(position));

    /// <summary>Replaces the content with <paramref name="ascending"/> (strictly ascending, not copied).</summary>
    public void Reset(Revision[] ascending, int count)
    {
        items = ascending;
        Count = count;
    }

    public void Clear()
    {
        items = [];
        Count = 0;
    }

    public bool Contains(Revision revision)
    {
        var position = LowerBound(revision);
        return position < Count && items[position] == revision;
    }

    /// <summary>Adds <paramref name="revision"/>; returns false when it was already there.</summary>
    public bool Add(Revision revision)
    {
        var position = Count > 0 && items[Count - 1] < revision ? Count : LowerBound(revision);
        if (position < Count && items[position] == revision)
        {
            return false;
        }
        if (Count == items.Length)
        {
            Array.Resize(ref items, Math.Max(16, items.Length * 2));
        }
        Array.Copy(items, position, items, position + 1, Count - position);
        items[position] = revision;
        Count++;
        return true;
    }

    /// <summary>Removes every revision in <paramref name="dropped"/>; returns how many were present.</summary>
    public int RemoveAll(IReadOnlySet<Revision> dropped)
    {
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            if (!dropped.Contains(items[i]))
            {
                items[kept++] = items[i];
            }
        }
        var removed = Count - kept;
        Count = kept;
        return removed;
    }

    /// <summary>The position of the first revision &gt;= <paramref name="from"/> (<see cref="Count"/> when none).</summary>
    public int LowerBound(Revision from)
    {
        var found = Array.BinarySearch(items, 0, Count, from); // revisions are unique: a hit is the lower bound
        return found >= 0 ? found : ~found;
    }
}
