namespace CurpStore.Store.Faster;

/// <summary>
/// The live revisions in ascending order, for ordered scans (FASTER's hash index has no order; etcd keeps its
/// treeIndex in memory for the same reason), each with the log address of its record, so that a scan can read the
/// records that are on disk with one sequential pass instead of one disk read each. Two growable arrays, no object per
/// entry: a million records cost 24-48 MB. New revisions only grow, so an add is an append; compaction removes many at
/// once in one pass.
/// </summary>
/// <remarks>An address is a hint: a scan checks the record it finds there and falls back to a lookup by key.</remarks>
internal sealed class RevisionIndex
{
    /// <summary>The address of a record whose place in the log is not known (yet).</summary>
    public const long UnknownAddress = -1;

    private Revision[] revisions = [];
    private long[] addresses = [];

    public int Count { get; private set; }

    public Revision RevisionAt(int position) => position < Count ? revisions[position] : throw new ArgumentOutOfRangeException(nameof(position));

    public long AddressAt(int position) => position < Count ? addresses[position] : throw new ArgumentOutOfRangeException(nameof(position));

    /// <summary>Replaces the content with <paramref name="ascending"/> (strictly ascending) and their addresses; neither
    /// array is copied.</summary>
    public void Reset(Revision[] ascending, long[] logAddresses, int count)
    {
        if (ascending.Length != logAddresses.Length || count > ascending.Length)
        {
            throw new ArgumentException("revisions and addresses must be arrays of the same length, holding the count");
        }
        revisions = ascending;
        addresses = logAddresses;
        Count = count;
    }

    public void Clear() => Reset([], [], 0);

    public bool Contains(Revision revision) => IndexOf(revision) >= 0;

    /// <summary>Adds <paramref name="revision"/> with an unknown address; returns false when it was already there.</summary>
    public bool Add(Revision revision)
    {
        var position = Count > 0 && revisions[Count - 1] < revision ? Count : LowerBound(revision);
        if (position < Count && revisions[position] == revision)
        {
            return false;
        }
        if (Count == revisions.Length)
        {
            var capacity = Math.Max(16, revisions.Length * 2);
            Array.Resize(ref revisions, capacity);
            Array.Resize(ref addresses, capacity);
        }
        Array.Copy(revisions, position, revisions, position + 1, Count - position);
        Array.Copy(addresses, position, addresses, position + 1, Count - position);
        revisions[position] = revision;
        addresses[position] = UnknownAddress;
        Count++;
        return true;
    }

    /// <summary>Records where the record of <paramref name="revision"/> now is; ignored when it is not live.</summary>
    public void SetAddress(Revision revision, long address)
    {
        var position = IndexOf(revision);
        if (position >= 0)
        {
            addresses[position] = address;
        }
    }

    /// <summary>Removes every revision in <paramref name="dropped"/>; returns how many were present.</summary>
    public int RemoveAll(IReadOnlySet<Revision> dropped)
    {
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            if (!dropped.Contains(revisions[i]))
            {
                revisions[kept] = revisions[i];
                addresses[kept++] = addresses[i];
            }
        }
        var removed = Count - kept;
        Count = kept;
        return removed;
    }

    /// <summary>The position of the first revision &gt;= <paramref name="from"/> (<see cref="Count"/> when none).</summary>
    public int LowerBound(Revision from)
    {
        var found = Array.BinarySearch(revisions, 0, Count, from); // revisions are unique: a hit is the lower bound
        return found >= 0 ? found : ~found;
    }

    private int IndexOf(Revision revision)
    {
        var found = Array.BinarySearch(revisions, 0, Count, revision);
        return found >= 0 ? found : -1;
    }
}
