namespace CurpStore.Store;

/// <summary>
/// The engine of the simulator and the unit tests: records in a sorted list (appends at the end are cheap, revision
/// seeks are binary searches), meta in a sorted dictionary. Nothing survives the process, so "durable" means "kept in
/// this object": reopening a state machine on the same instance models a restart.
/// </summary>
public sealed class InMemoryKvEngine : IKvEngine
{
    /// <summary>Above this many deletions one rebuild of the list is cheaper than shifting it once per deletion.</summary>
    private const int RebuildAboveDeletes = 16;

    private SortedList<Revision, KvRecord> records = [];
    private readonly SortedDictionary<string, byte[]> meta = new(StringComparer.Ordinal);

    public int RecordCount => records.Count;

    public KvRecord? GetRecord(Revision revision) => records.GetValueOrDefault(revision);

    public IEnumerable<KvRecord> ScanRecords(Revision from)
    {
        var keys = records.Keys;
        var values = records.Values;
        for (var i = LowerBound(keys, from); i < keys.Count; i++)
        {
            yield return values[i];
        }
    }

    public byte[]? GetMeta(string name) => meta.GetValueOrDefault(name);

    public IEnumerable<KeyValuePair<string, byte[]>> ScanMeta(string prefix)
    {
        foreach (var entry in meta)
        {
            if (entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return entry;
            }
            else if (string.CompareOrdinal(entry.Key, prefix) > 0)
            {
                yield break; // sorted: nothing after the prefix block can match
            }
        }
    }

    public void Commit(KvWriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.ClearFirst)
        {
            records = [];
            meta.Clear();
        }
        DeleteRecords(batch.Deletes);
        foreach (var record in batch.Puts)
        {
            records[record.Revision] = record;
        }
        foreach (var (name, value) in batch.Meta)
        {
            if (value is null)
            {
                meta.Remove(name);
            }
            else
            {
                meta[name] = value;
            }
        }
    }

    /// <summary>Nothing to do: what this engine holds lives exactly as long as the object.</summary>
    public void Checkpoint()
    {
    }

    public void Dispose()
    {
    }

    private void DeleteRecords(List<Revision> deletes)
    {
        if (deletes.Count <= RebuildAboveDeletes)
        {
            foreach (var revision in deletes)
            {
                records.Remove(revision);
            }
            return;
        }
        var dropped = deletes.ToHashSet();
        var kept = new SortedList<Revision, KvRecord>(Math.Max(0, records.Count - dropped.Count));
        foreach (var (revision, record) in records)
        {
            if (!dropped.Contains(revision))
            {
                kept.Add(revision, record); // ascending input: each Add lands at the end
            }
        }
        records = kept;
    }

    /// <summary>The index of the first key &gt;= <paramref name="from"/>.</summary>
    private static int LowerBound(IList<Revision> keys, Revision from)
    {
        int low = 0, high = keys.Count;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            if (keys[mid] < from)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }
}
