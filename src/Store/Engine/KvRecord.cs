namespace CurpStore.Store;

/// <summary>
/// One stored version, keyed by its revision like a record of etcd's "key" bucket. A put stores the full key-value
/// (create revision and version included), so the key index can be rebuilt from records alone; a tombstone stores only
/// the key (and its deleting revision as <see cref="KeyValue.ModRevision"/>).
/// </summary>
public sealed record KvRecord(Revision Revision, KeyValue Kv, bool IsTombstone);
