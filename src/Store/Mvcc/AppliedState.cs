using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The committed state: the engine, the key index and lease table rebuilt from it, and the batch of the command being
/// applied. <see cref="Commit"/> writes that batch with the consistent index, one engine commit per applied command.
/// </summary>
internal sealed class AppliedState : IMvccState
{
    private readonly IKvEngine engine;
    private readonly KeyIndex index = new();
    private readonly SortedDictionary<long, LeaseInfo> leases = [];
    private readonly Dictionary<long, SortedSet<byte[]>> attached = [];
    private readonly Dictionary<Revision, KvRecord> pendingRecords = [];
    private KvWriteBatch batch = new();
    private AuthState auth = AuthState.Initial;
    private AlarmSet alarms = AlarmSet.Empty;
    private long sizeInUseBytes;
    private long sizeBytes;

    public AppliedState(IKvEngine engine)
    {
        this.engine = engine ?? throw new ArgumentNullException(nameof(engine));
        Load();
    }

    public long Revision { get; private set; }

    public long CompactedRevision { get; private set; }

    /// <summary>The last log index applied (etcd's consistent index).</summary>
    public ulong ConsistentIndex { get; private set; }

    public IKvEngine Engine => engine;

    public int KeyCount => index.Count;

    public IEnumerable<LeaseInfo> Leases => leases.Values;

    public KeyHistory? FindKey(byte[] key) => index.Find(key);

    public IEnumerable<KeyHistory> KeysInRange(KeyRange range) => index.InRange(range);

    public KeyValue ReadKeyValue(Revision revision) =>
        pendingRecords.TryGetValue(revision, out var pending) ? pending.Kv
        : engine.GetRecord(revision)?.Kv ?? throw new InvalidOperationException($"the key index points at revision {revision}, which the engine does not hold");

    public LeaseInfo? FindLease(long id) => leases.GetValueOrDefault(id);

    public IReadOnlyList<byte[]> AttachedKeys(long leaseId) => attached.TryGetValue(leaseId, out var keys) ? [.. keys] : [];

    public KeyHistory KeyForWrite(byte[] key)
    {
        var history = index.Find(key);
        if (history is null)
        {
            history = new KeyHistory(key);
            index.Add(history);
        }
        return history;
    }

    public void WriteRecord(KvRecord record)
    {
        pendingRecords[record.Revision] = record;
        batch.Puts.Add(record);
        AddSize(RecordSize.Of(record));
    }

    public void AttachKey(long leaseId, byte[] key)
    {
        if (!attached.TryGetValue(leaseId, out var keys))
        {
            keys = new SortedSet<byte[]>(ByteKeyComparer.Instance);
            attached[leaseId] = keys;
        }
        keys.Add(key);
    }

    public void DetachKey(long leaseId, byte[] key)
    {
        if (attached.TryGetValue(leaseId, out var keys) && keys.Remove(key) && keys.Count == 0)
        {
            attached.Remove(leaseId);
        }
    }

    public void SaveLease(LeaseInfo lease)
    {
        leases[lease.Id] = lease;
        batch.Meta[StoreMeta.LeaseName(lease.Id)] = StoreMeta.EncodeLease(lease);
    }

    public void DeleteLease(long id)
    {
        leases.Remove(id);
        attached.Remove(id);
        batch.Meta[StoreMeta.LeaseName(id)] = null;
    }

    /// <summary>Published with a volatile write: the serving member reads it from other threads (an immutable value).</summary>
    public AuthState Auth => Volatile.Read(ref auth);

    public void SetAuth(AuthState next)
    {
        AuthMeta.WriteChanges(auth, next, batch);
        Volatile.Write(ref auth, next);
    }

    /// <summary>Published with a volatile write: the serving member reads it from other threads (an immutable value).</summary>
    public AlarmSet Alarms => Volatile.Read(ref alarms);

    public void SetAlarms(AlarmSet next)
    {
        AlarmSet.WriteChanges(alarms, next, batch);
        Volatile.Write(ref alarms, next);
    }

    /// <summary>The bytes the stored records take as etcd keeps them in its "key" bucket (see
    /// <see cref="RecordSize"/>): every version since the last compaction, tombstones included. Updated as commands
    /// are applied and published with a volatile write, for the serving member's quota check.</summary>
    public long SizeInUseBytes => Volatile.Read(ref sizeInUseBytes);

    /// <summary>etcd's dbSize next to <see cref="SizeInUseBytes"/> (its dbSizeInUse): like a database file, it grows
    /// with the records and does not shrink when compaction frees space, only when <see cref="Defragment"/> (or a
    /// restart) gives the free space back. A member's own figure: defragment is not replicated.</summary>
    public long SizeBytes => Volatile.Read(ref sizeBytes);

    /// <summary>Gives the space compaction freed back: the size drops to what is in use.</summary>
    public void Defragment() => Volatile.Write(ref sizeBytes, SizeInUseBytes);

    public void Compact(long revision)
    {
        CompactedRevision = revision;
        var keep = new HashSet<Revision>();
        index.Compact(revision, keep);
        foreach (var record in engine.ScanRecords(Store.Revision.Zero))
        {
            if (record.Revision.Main > revision)
            {
                break;
            }
            if (!keep.Contains(record.Revision))
            {
                batch.Deletes.Add(record.Revision);
                AddSize(-RecordSize.Of(record));
            }
        }
        batch.Meta[StoreMeta.CompactedRevision] = StoreMeta.EncodeInt64(revision);
    }

    public void SetRevision(long revision) => Revision = revision;

    /// <summary>Writes the applied command's changes together with its log index, in one engine batch.</summary>
    public void Commit(ulong appliedIndex)
    {
        ConsistentIndex = appliedIndex;
        batch.Meta[StoreMeta.ConsistentIndex] = StoreMeta.EncodeInt64((long)appliedIndex);
        batch.Meta[StoreMeta.Revision] = StoreMeta.EncodeInt64(Revision);
        engine.Commit(batch);
        batch = new KvWriteBatch();
        pendingRecords.Clear();
    }

    /// <summary>Throws away the key index and lease table and rebuilds them from the engine (start, snapshot install).</summary>
    public void Load()
    {
        index.Clear();
        leases.Clear();
        attached.Clear();
        pendingRecords.Clear();
        batch = new KvWriteBatch();
        ConsistentIndex = (ulong)(StoreMeta.DecodeInt64(engine.GetMeta(StoreMeta.ConsistentIndex)) ?? 0);
        Revision = StoreMeta.DecodeInt64(engine.GetMeta(StoreMeta.Revision)) ?? 1;
        CompactedRevision = StoreMeta.DecodeInt64(engine.GetMeta(StoreMeta.CompactedRevision)) ?? -1;
        Volatile.Write(ref auth, AuthMeta.Load(engine));
        Volatile.Write(ref alarms, AlarmSet.Load(engine));
        var size = 0L;
        foreach (var (_, value) in engine.ScanMeta(StoreMeta.LeasePrefix))
        {
            var lease = StoreMeta.DecodeLease(value);
            leases[lease.Id] = lease;
        }
        // Attachments are not stored with the leases: like etcd, derive them from each live key's latest version. Only
        // keys whose latest version has a lease are remembered, so a restart does not hold every record at once.
        var leaseOfLatest = new Dictionary<byte[], long>(ByteKeyComparer.Instance);
        foreach (var record in engine.ScanRecords(Store.Revision.Zero))
        {
            RestoreIntoIndex(record);
            size += RecordSize.Of(record);
            if (!record.IsTombstone && record.Kv.Lease != 0)
            {
                leaseOfLatest[record.Kv.Key] = record.Kv.Lease;
            }
            else
            {
                leaseOfLatest.Remove(record.Kv.Key);
            }
            Revision = Math.Max(Revision, record.Revision.Main);
        }
        Volatile.Write(ref sizeInUseBytes, size);
        Volatile.Write(ref sizeBytes, size);
        foreach (var (key, lease) in leaseOfLatest)
        {
            if (leases.ContainsKey(lease))
            {
                AttachKey(lease, key);
            }
        }
    }

    private void AddSize(long bytes)
    {
        Volatile.Write(ref sizeInUseBytes, sizeInUseBytes + bytes);
        Volatile.Write(ref sizeBytes, Math.Max(sizeBytes, sizeInUseBytes));
    }

    /// <summary>etcd's restoreIntoIndex, including the fix for a tombstone that is a key's oldest surviving record
    /// (etcd PR 19188).</summary>
    private void RestoreIntoIndex(KvRecord record)
    {
        var history = index.Find(record.Kv.Key);
        if (history is null)
        {
            history = new KeyHistory(record.Kv.Key);
            if (record.IsTombstone)
            {
                history.RestoreTombstone(record.Revision);
            }
            else
            {
                history.Restore(new Revision(record.Kv.CreateRevision, 0), record.Revision, record.Kv.Version);
            }
            index.Add(history);
        }
        else if (record.IsTombstone)
        {
            history.Tombstone(record.Revision);
        }
        else
        {
            history.Put(record.Revision);
        }
    }
}
