using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// What request execution reads and writes. Two implementations: the applied state (engine + key index + lease table)
/// and the leader's speculative overlay on top of it. Execution code is written once against this interface, which is
/// what makes a speculated answer equal to the applied one.
/// </summary>
/// <remarks>Writes land in the key index immediately (later operations of the same txn see them, as in etcd); nothing
/// fails after the first write, because every check runs before it.</remarks>
internal interface IMvccState
{
    /// <summary>The current main revision (1 on an empty store, as in etcd).</summary>
    long Revision { get; }

    /// <summary>The compacted revision; -1 when never compacted (etcd's initial compactMainRev).</summary>
    long CompactedRevision { get; }

    KeyHistory? FindKey(byte[] key);

    /// <summary>The indexed keys of a multi-key range, in key order (see <see cref="KeyIndex.InRange"/>).</summary>
    IEnumerable<KeyHistory> KeysInRange(KeyRange range);

    /// <summary>The stored version at <paramref name="revision"/>; the revision must come from the key index.</summary>
    KeyValue ReadKeyValue(Revision revision);

    LeaseInfo? FindLease(long id);

    /// <summary>The live keys attached to a lease, in key order (the order etcd revokes them in).</summary>
    IReadOnlyList<byte[]> AttachedKeys(long leaseId);

    /// <summary>The key's history, to be changed: created when absent (copied first, in the overlay).</summary>
    KeyHistory KeyForWrite(byte[] key);

    void WriteRecord(KvRecord record);

    void AttachKey(long leaseId, byte[] key);

    void DetachKey(long leaseId, byte[] key);

    void SaveLease(LeaseInfo lease);

    void DeleteLease(long id);

    /// <summary>The auth store (users, roles, permissions, enabled flag, auth revision).</summary>
    AuthState Auth { get; }

    /// <summary>Replaces the auth store with <paramref name="next"/>, a changed copy of <see cref="Auth"/>.</summary>
    void SetAuth(AuthState next);

    /// <summary>The active alarms (etcd's alarm store).</summary>
    AlarmSet Alarms { get; }

    /// <summary>Replaces the alarms with <paramref name="next"/>, a changed copy of <see cref="Alarms"/>.</summary>
    void SetAlarms(AlarmSet next);

    /// <summary>Compacts at <paramref name="revision"/> (validated by the caller).</summary>
    void Compact(long revision);

    /// <summary>Ends a write transaction that changed something.</summary>
    void SetRevision(long revision);
}
