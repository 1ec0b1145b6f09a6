using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// One transaction on an <see cref="IMvccState"/>, with the semantics of etcd's storeTxnWrite: every change gets the
/// main revision <see cref="BeginRevision"/> + 1 and the next sub revision; reads inside the txn see its own changes
/// and report the revision they would have; nothing changes the store revision unless something was written.
/// </summary>
internal sealed class MvccTxn
{
    private readonly IMvccState state;
    private readonly List<KvRecord> changes = [];

    public MvccTxn(IMvccState state)
    {
        this.state = state;
        BeginRevision = state.Revision;
    }

    public IMvccState State => state;

    public long BeginRevision { get; }

    public IReadOnlyList<KvRecord> Changes => changes;

    /// <summary>The revision reads inside the txn see: the txn's own revision once it wrote something.</summary>
    public long ReadRevision => changes.Count > 0 ? BeginRevision + 1 : BeginRevision;

    /// <summary>etcd's rangeKeys. <paramref name="limit"/> &lt;= 0 means no limit; <see cref="RangeResult.Count"/>
    /// counts every match regardless.</summary>
    public RangeResult Range(KeyRange range, long atRevision, long limit, bool countOnly)
    {
        var current = ReadRevision;
        if (atRevision > current)
        {
            return RangeResult.Failed(EtcdError.FutureRevision, current);
        }
        if (atRevision <= 0)
        {
            atRevision = current;
        }
        if (atRevision < state.CompactedRevision)
        {
            return RangeResult.Failed(EtcdError.Compacted, 0);
        }
        var revisions = new List<Revision>();
        long total = 0;
        foreach (var history in Visit(range))
        {
            if (history.TryGet(atRevision, out var modified, out _, out _))
            {
                if (!countOnly && (limit <= 0 || revisions.Count < limit))
                {
                    revisions.Add(modified);
                }
                total++;
            }
        }
        var kvs = revisions.ConvertAll(state.ReadKeyValue);
        return new RangeResult(null, kvs, total, current);
    }

    /// <summary>etcd's storeTxnWrite.put. Returns the revision of the change.</summary>
    public long Put(byte[] key, byte[] value, long lease)
    {
        var main = BeginRevision + 1;
        var created = main;
        long version = 0;
        long oldLease = 0;
        var history = state.FindKey(key);
        if (history is not null && history.TryGet(main, out var modified, out var createdAt, out version))
        {
            created = createdAt.Main;
            oldLease = state.ReadKeyValue(modified).Lease;
        }
        var at = new Revision(main, changes.Count);
        var kv = new KeyValue { Key = key, Value = value, CreateRevision = created, ModRevision = main, Version = version + 1, Lease = lease };
        var record = new KvRecord(at, kv, IsTombstone: false);
        state.WriteRecord(record);
        state.KeyForWrite(key).Put(at);
        changes.Add(record);
        if (oldLease != 0)
        {
            state.DetachKey(oldLease, key);
        }
        if (lease != 0)
        {
            state.AttachKey(lease, key);
        }
        return main;
    }

    /// <summary>etcd's storeTxnWrite.DeleteRange: how many keys were deleted and the revision to report (the txn's
    /// revision if it wrote anything so far, else the current one).</summary>
    public (long Deleted, long Revision) DeleteRange(KeyRange range)
    {
        var at = ReadRevision;
        var live = new List<(byte[] Key, Revision Modified)>();
        foreach (var history in Visit(range))
        {
            if (history.TryGet(at, out var modified, out _, out _))
            {
                live.Add((history.Key, modified));
            }
        }
        foreach (var (key, modified) in live)
        {
            Delete(key, modified);
        }
        return live.Count != 0 || changes.Count > 0 ? (live.Count, BeginRevision + 1) : (0, BeginRevision);
    }

    /// <summary>Ends the txn: the store revision moves only if something changed.</summary>
    public void End()
    {
        if (changes.Count > 0)
        {
            state.SetRevision(BeginRevision + 1);
        }
    }

    private void Delete(byte[] key, Revision modified)
    {
        var lease = state.ReadKeyValue(modified).Lease;
        var at = new Revision(BeginRevision + 1, changes.Count);
        var record = new KvRecord(at, new KeyValue { Key = key, ModRevision = at.Main }, IsTombstone: true);
        state.WriteRecord(record);
        state.KeyForWrite(key).Tombstone(at);
        changes.Add(record);
        if (lease != 0)
        {
            state.DetachKey(lease, key);
        }
    }

    /// <summary>The keys a range names, materialised so that writes may follow. A single key is looked up directly,
    /// as etcd does for an empty range end.</summary>
    private List<KeyHistory> Visit(KeyRange range)
    {
        if (range.IsSingleKey)
        {
            return state.FindKey(range.Start) is { } single ? [single] : [];
        }
        return [.. state.KeysInRange(range)];
    }
}

/// <summary>What <see cref="MvccTxn.Range"/> found: the versions (within the limit), how many keys matched, and the
/// revision to report; or an error.</summary>
internal sealed record RangeResult(EtcdError? Error, List<KeyValue> Kvs, long Count, long Revision)
{
    public static RangeResult Failed(EtcdError error, long revision) => new(error, [], -1, revision);
}
