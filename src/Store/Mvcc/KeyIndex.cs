using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The ordered in-memory key index (etcd's treeIndex): every key with history, in unsigned byte order, so ranges are
/// ordered walks. Rebuilt from the engine's records at start.
/// </summary>
internal sealed class KeyIndex
{
    private readonly SortedSet<KeyHistory> keys = new(KeyOrder.Instance);

    public int Count => keys.Count;

    public IEnumerable<KeyHistory> All => keys;

    public KeyHistory? Find(byte[] key) => keys.TryGetValue(new KeyHistory(key), out var found) ? found : null;

    public void Add(KeyHistory history)
    {
        if (!keys.Add(history))
        {
            throw new InvalidOperationException("key already indexed");
        }
    }

    public void Remove(KeyHistory history) => keys.Remove(history);

    public void Clear() => keys.Clear();

    /// <summary>The keys inside a range (never a single key: see <see cref="Find"/>), in key order. A range whose end
    /// is not above its start is empty, as in etcd. Do not add or remove keys while enumerating.</summary>
    public IEnumerable<KeyHistory> InRange(KeyRange range)
    {
        if (keys.Count == 0 || range.IsEmptyRange)
        {
            return [];
        }
        var lower = new KeyHistory(range.Start);
        if (range.IsToInfinity)
        {
            var max = keys.Max!;
            return KeyOrder.Instance.Compare(lower, max) > 0 ? [] : keys.GetViewBetween(lower, max);
        }
        var upper = new KeyHistory(range.End);
        return ExcludeEnd(keys.GetViewBetween(lower, upper), range.End);
    }

    /// <summary>Compacts every key and drops the keys left with nothing (etcd's treeIndex.Compact).</summary>
    public void Compact(long atRevision, HashSet<Revision> keep)
    {
        List<KeyHistory>? emptied = null;
        foreach (var history in keys)
        {
            history.Compact(atRevision, keep);
            if (history.IsEmpty)
            {
                (emptied ??= []).Add(history);
            }
        }
        foreach (var history in emptied ?? [])
        {
            keys.Remove(history);
        }
    }

    private static IEnumerable<KeyHistory> ExcludeEnd(SortedSet<KeyHistory> view, byte[] end)
    {
        foreach (var history in view)
        {
            if (history.Key.AsSpan().SequenceCompareTo(end) >= 0)
            {
                yield break; // the view's upper bound is inclusive; ranges are half-open
            }
            yield return history;
        }
    }

    /// <summary>Orders key histories by their key's bytes, unsigned, like etcd.</summary>
    internal sealed class KeyOrder : IComparer<KeyHistory>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(KeyHistory? x, KeyHistory? y) => ByteKeyComparer.Instance.Compare(x?.Key, y?.Key);
    }
}
