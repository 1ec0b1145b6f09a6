namespace CurpStore.Curp;

/// <summary>
/// A set of write commands indexed by the keys they touch, answering "does this command conflict with any held
/// one?" without scanning every held command for single-key traffic. Used for the witnesses' speculative pools and the
/// leader's uncommitted pool. Bounded: <see cref="Capacity"/>.
/// </summary>
public sealed class ConflictIndex
{
    private readonly Dictionary<ProposeId, PooledCommand> commands = [];
    private readonly Dictionary<byte[], int> singleKeyCounts = new(ByteKeyComparer.Instance);
    private readonly SortedSet<byte[]> singleKeys = new(ByteKeyComparer.Instance);
    private readonly List<(KeyRange Range, ProposeId Id)> ranges = [];

    public ConflictIndex(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => commands.Count;

    public bool IsFull => commands.Count >= Capacity;

    public IEnumerable<PooledCommand> Commands => commands.Values;

    public bool Contains(ProposeId id) => commands.ContainsKey(id);

    public bool TryGet(ProposeId id, out PooledCommand? command) => commands.TryGetValue(id, out command);

    /// <summary>True when <paramref name="command"/> shares a key with a held command other than itself.</summary>
    public bool Conflicts(ICommand command)
    {
        foreach (var range in command.KeyRanges)
        {
            if (range.IsSingleKey)
            {
                if (singleKeyCounts.ContainsKey(range.Start) && !HeldOnlyBy(range.Start, command.Id))
                {
                    return true;
                }
            }
            else if (!range.IsEmptyRange && AnySingleKeyIn(range, command.Id))
            {
                return true;
            }
            foreach (var (held, id) in ranges)
            {
                if (id != command.Id && held.Overlaps(range))
                {
                    return true;
                }
            }
        }
        return false;
    }

    public bool Add(PooledCommand pooled)
    {
        if (!commands.TryAdd(pooled.Id, pooled))
        {
            return false;
        }
        foreach (var range in pooled.Command.KeyRanges)
        {
            if (range.IsSingleKey)
            {
                var count = singleKeyCounts.GetValueOrDefault(range.Start);
                singleKeyCounts[range.Start] = count + 1;
                if (count == 0)
                {
                    singleKeys.Add(range.Start);
                }
            }
            else
            {
                ranges.Add((range, pooled.Id));
            }
        }
        return true;
    }

    public bool Remove(ProposeId id)
    {
        if (!commands.Remove(id, out var pooled))
        {
            return false;
        }
        foreach (var range in pooled.Command.KeyRanges)
        {
            if (range.IsSingleKey)
            {
                var count = singleKeyCounts[range.Start] - 1;
                if (count == 0)
                {
                    singleKeyCounts.Remove(range.Start);
                    singleKeys.Remove(range.Start);
                }
                else
                {
                    singleKeyCounts[range.Start] = count;
                }
            }
        }
        if (pooled.Command.KeyRanges.Any(range => !range.IsSingleKey))
        {
            ranges.RemoveAll(held => held.Id == id);
        }
        return true;
    }

    public void Clear()
    {
        commands.Clear();
        singleKeyCounts.Clear();
        singleKeys.Clear();
        ranges.Clear();
    }

    private bool HeldOnlyBy(byte[] key, ProposeId id) =>
        commands.TryGetValue(id, out var own) && singleKeyCounts[key] == own.Command.KeyRanges.Count(r => r.IsSingleKey && ByteKeyComparer.Instance.Equals(r.Start, key));

    private bool AnySingleKeyIn(KeyRange range, ProposeId self)
    {
        if (singleKeys.Count == 0)
        {
            return false;
        }
        var upper = range.IsToInfinity ? singleKeys.Max! : range.End;
        if (ByteKeyComparer.Instance.Compare(range.Start, upper) > 0)
        {
            return false;
        }
        foreach (var key in singleKeys.GetViewBetween(range.Start, upper))
        {
            if (range.Contains(key) && !HeldOnlyBy(key, self))
            {
                return true;
            }
        }
        return false;
    }
}
