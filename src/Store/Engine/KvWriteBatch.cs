namespace CurpStore.Store;

/// <summary>
/// Everything one applied command changes, committed atomically by <see cref="IKvEngine.Commit"/> together with the
/// applied (consistent) index in <see cref="Meta"/>, so a restart never sees half a command or a command without its
/// index. Applied in this order: <see cref="ClearFirst"/>, <see cref="Deletes"/>, <see cref="Puts"/>, <see cref="Meta"/>.
/// </summary>
public sealed class KvWriteBatch
{
    /// <summary>Drop every record and meta entry before the rest (installing a snapshot).</summary>
    public bool ClearFirst { get; set; }

    /// <summary>Records to store (a record with an existing revision replaces it).</summary>
    public List<KvRecord> Puts { get; } = [];

    /// <summary>Revisions of records to drop (compaction).</summary>
    public List<Revision> Deletes { get; } = [];

    /// <summary>Meta entries to set; a null value deletes the entry.</summary>
    public SortedDictionary<string, byte[]?> Meta { get; } = new(StringComparer.Ordinal);

    public bool IsEmpty => !ClearFirst && Puts.Count == 0 && Deletes.Count == 0 && Meta.Count == 0;
}
