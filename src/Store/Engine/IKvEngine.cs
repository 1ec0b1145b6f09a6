namespace CurpStore.Store;

/// <summary>
/// The storage under the etcd state machine: revision-keyed records (etcd's "key" bucket) plus a small meta space
/// (consistent index, current and compacted revision, leases). Deliberately small and synchronous: the state machine
/// keeps the key index in memory and only needs point reads, ordered scans and atomic batches, which a FASTER log or
/// KV store provides as easily as a dictionary. Single-threaded: the state machine's thread is the only caller.
/// </summary>
public interface IKvEngine : IDisposable
{
    /// <summary>The record stored under <paramref name="revision"/>, or null.</summary>
    KvRecord? GetRecord(Revision revision);

    /// <summary>Every record with a revision &gt;= <paramref name="from"/>, in revision order. Do not commit while
    /// enumerating.</summary>
    IEnumerable<KvRecord> ScanRecords(Revision from);

    /// <summary>How many records a scan from <see cref="Revision.Zero"/> returns.</summary>
    int RecordCount { get; }

    /// <summary>A meta value, or null when absent.</summary>
    byte[]? GetMeta(string name);

    /// <summary>Every meta entry whose name starts with <paramref name="prefix"/>, in ordinal name order.</summary>
    IEnumerable<KeyValuePair<string, byte[]>> ScanMeta(string prefix);

    /// <summary>Applies the whole batch atomically: after a crash either all of it or none of it is visible.</summary>
    /// <remarks>A batch need not be durable when this returns: a persistent engine may keep it in memory until the next
    /// <see cref="Checkpoint"/>, because the log is the source of truth and a restart replays it after the recovered
    /// consistent index.</remarks>
    void Commit(KvWriteBatch batch);

    /// <summary>Makes everything committed so far durable and recoverable as one consistent point (records and meta
    /// together, so the recovered consistent index matches the recovered records); returns once it is durable. A
    /// restart recovers the last completed checkpoint, never a state between two.</summary>
    void Checkpoint();
}
