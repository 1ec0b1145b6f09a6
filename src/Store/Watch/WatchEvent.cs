namespace CurpStore.Store;

/// <summary>mvccpb.Event.EventType (same numbers as the protobuf enum).</summary>
public enum WatchEventType
{
    Put = 0,
    Delete = 1,
}

/// <summary>
/// One change, as etcd's watch sends it. A delete's <see cref="Kv"/> holds only the key and the deleting revision.
/// <see cref="PrevKv"/> is the key's version at ModRevision - 1, absent for a creation or when that revision was
/// compacted (what etcd's watch server sends with prev_kv).
/// </summary>
public sealed record WatchEvent(WatchEventType Type, KeyValue Kv, KeyValue? PrevKv);
