namespace CurpStore.Store;

/// <summary>What etcd's Maintenance service reads from the store: key history for HashKV, a consistent image for
/// Snapshot and Hash, and an engine checkpoint for Defragment. All of it runs on the state machine's thread.</summary>
public sealed partial class EtcdStateMachine
{
    /// <summary>The revision HashKV covers for a requested <paramref name="revision"/> (0 = the current one), or etcd's
    /// error: at or below the compacted revision "required revision has been compacted", above the current one
    /// "required revision is a future revision" (etcd's <c>hashByRev</c> checks in this order).</summary>
    public (long HashRevision, EtcdError? Error) HashRevisionFor(long revision)
    {
        if (revision > 0 && revision <= CompactedRevision)
        {
            return (0, EtcdError.Compacted);
        }
        if (revision > Revision)
        {
            return (0, EtcdError.FutureRevision);
        }
        return (revision == 0 ? Revision : revision, null);
    }

    /// <summary>Every stored record (puts and tombstones) whose main revision is at most <paramref name="revision"/>, in
    /// revision order: what etcd's HashKV feeds its checksum. Compaction already removed the records etcd skips as
    /// "scheduled for deletion", so nothing else is filtered. Enumerate before the next apply.</summary>
    public IEnumerable<KvRecord> RecordsUpTo(long revision) =>
        applied.Engine.ScanRecords(Store.Revision.Zero).TakeWhile(record => record.Revision.Main <= revision);

    /// <summary>The whole applied state as an immutable image (the engine is not checkpointed: the image is taken from
    /// its current content), for etcd's Snapshot and Hash.</summary>
    public EtcdSnapshot CaptureImage() => EtcdSnapshot.Capture(applied.Engine);

    /// <summary>etcd's Defragment: the engine checkpoints, which lets a log-structured engine drop what is no longer
    /// needed. Safe at any time: a restart recovers this checkpoint or a snapshot image and replays the log after it.</summary>
    public void Defragment()
    {
        applied.Engine.Checkpoint();
        applied.Defragment();
    }

    /// <summary>The store's size as etcd's quota counts dbSize: the bytes of the stored records (see
    /// <see cref="DbSizeInUseBytes"/>) at their highest since this member's last defragment or start, because, like
    /// etcd's database file, space freed by compaction is given back only by a defragment. The backend quota is checked
    /// against it (Status reports the engine's files instead, which differ between members). Safe to read from any
    /// thread.</summary>
    public long DbSizeBytes => applied.SizeBytes;

    /// <summary>etcd's dbSizeInUse: the bytes the stored records take as etcd would store them (revision key plus the
    /// mvccpb.KeyValue; every version since the last compaction, tombstones included). Equal on every member at the same
    /// applied index. Safe to read from any thread.</summary>
    public long DbSizeInUseBytes => applied.SizeInUseBytes;

    /// <summary>etcd's backend quota cost of a request (0 for requests the quota does not limit).</summary>
    public static long QuotaCost(EtcdRequest request) => AlarmExecutor.QuotaCost(request);

    /// <summary>The applied alarms. Safe to read from any thread: an immutable value, replaced on every change.</summary>
    public AlarmSet Alarms => applied.Alarms;
}
