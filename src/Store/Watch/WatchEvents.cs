namespace CurpStore.Store;

/// <summary>Turns stored records into watch events the way etcd's watch server does, prev_kv included.</summary>
internal static class WatchEvents
{
    public static IReadOnlyList<WatchEvent> From(IMvccState state, IReadOnlyList<KvRecord> records, bool includePrevKv = true) =>
        records.Count == 0 ? [] : [.. records.Select(record => From(state, record, includePrevKv))];

    public static WatchEvent From(IMvccState state, KvRecord record, bool includePrevKv)
    {
        var type = record.IsTombstone ? WatchEventType.Delete : WatchEventType.Put;
        return new WatchEvent(type, record.Kv, includePrevKv ? Previous(state, record) : null);
    }

    /// <summary>The key at ModRevision - 1, unless the event created the key or that revision was compacted (etcd's
    /// watch server reads it the same way and leaves it out on error).</summary>
    private static KeyValue? Previous(IMvccState state, KvRecord record)
    {
        var kv = record.Kv;
        if (!record.IsTombstone && kv.CreateRevision == kv.ModRevision)
        {
            return null;
        }
        var at = record.Revision.Main - 1;
        if (at < state.CompactedRevision)
        {
            return null;
        }
        return state.FindKey(kv.Key) is { } history && history.TryGet(at, out var modified, out _, out _)
            ? state.ReadKeyValue(modified)
            : null;
    }
}
