using CurpStore.Wal;
using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>
/// The production engine of the etcd state machine, on Microsoft FASTER: records in a <c>FasterKV</c> keyed by their
/// revision, an in-memory ordered list of the live revisions for scans (FASTER's hash index has no order), and the meta
/// space in memory. <see cref="Checkpoint"/> takes a FASTER checkpoint that carries the meta space, and
/// <see cref="Open"/> recovers the last one: between checkpoints records live in FASTER's memory and log, which is fine
/// because the Raft log is the source of truth and a restart replays it after the recovered consistent index.
/// </summary>
/// <remarks>
/// <para>Keys and values are <see cref="SpanByte"/> (variable length, stored inline in the hybrid log): a record is
/// one contiguous log entry, read without deserialization and with no object log to checkpoint beside the main log.
/// An object-valued store would keep a second log and a serializer per record for nothing, since a record is
/// plain bytes.</para>
/// <para>Single-threaded like <see cref="IKvEngine"/>: the state machine's thread is the only caller, so one FASTER
/// session serves everything. After a FASTER failure the engine refuses all further work; reopening recovers the last
/// checkpoint.</para>
/// </remarks>
public sealed partial class FasterKvEngine : IKvEngine
{
    private readonly FasterKvEngineOptions options;
    private readonly IDevice logDevice;
    private readonly FasterKV<SpanByte, SpanByte> store;
    private readonly ClientSession<SpanByte, SpanByte, SpanByte, KvRecord?, int, RecordFunctions> session;
    private readonly RevisionIndex revisions = new();
    private SortedDictionary<string, byte[]> meta = new(StringComparer.Ordinal);
    private byte[] encodeBuffer = new byte[4096];

    /// <summary>Records in the log that no longer count (replaced, deleted, tombstones): drives log compaction.
    /// Approximate after a compaction, which may leave some behind.</summary>
    private long deadRecordCount;

    private bool changedSinceCheckpoint;
    private Exception? failure;
    private bool disposed;

    private FasterKvEngine(string directory, FasterKvEngineOptions options)
    {
        Directory = directory;
        this.options = options;
        logDevice = Devices.CreateLogDevice(Path.Combine(directory, LogDirectoryName, "hlog.log"), recoverDevice: true);
        try
        {
            store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
            {
                IndexSize = options.IndexSizeBytes,
                LogDevice = logDevice,
                PageSize = options.PageSizeBytes,
                SegmentSize = options.SegmentSizeBytes,
                MemorySize = options.LogMemorySizeBytes,
                // Reads of evicted records must not append copies to the log: scans would grow it.
                ReadCopyOptions = ReadCopyOptions.None,
                CheckpointDir = Path.Combine(directory, CheckpointDirectoryName),
                RemoveOutdatedCheckpoints = true,
            });
            session = store.For(new RecordFunctions(revisions.SetAddress)).NewSession<RecordFunctions>();
        }
        catch
        {
            store?.Dispose();
            logDevice.Dispose();
            throw;
        }
    }

    /// <summary>The engine's directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>Live records (revisions a scan from zero returns).</summary>
    public int RecordCount => revisions.Count;

    /// <summary>The consistent index (<c>StoreMeta.ConsistentIndex</c>) of the last completed checkpoint: what a
    /// reopen recovers, so the log must be kept from the next index on.</summary>
    public ulong CheckpointedConsistentIndex { get; private set; }

    /// <summary>Records that scans read from disk in a sequential pass rather than by key, since open.</summary>
    internal long RecordsReadByLogPass { get; private set; }

    /// <summary>Bytes of log between FASTER's begin and tail addresses, in memory and on disk (for tests and
    /// benchmarks of log compaction).</summary>
    public long LogSizeBytes => store.Log.TailAddress - store.Log.BeginAddress;

    /// <inheritdoc/>
    public KvRecord? GetRecord(Revision revision)
    {
        ThrowIfUnusable();
        var found = new KvRecord?[1];
        ReadRecords([revision], found);
        return found[0];
    }

    /// <inheritdoc/>
    public IEnumerable<KvRecord> ScanRecords(Revision from)
    {
        ThrowIfUnusable();
        return ScanFrom(revisions.LowerBound(from));
    }

    /// <inheritdoc/>
    public byte[]? GetMeta(string name)
    {
        ThrowIfUnusable();
        return meta.GetValueOrDefault(name);
    }

    /// <inheritdoc/>
    public IEnumerable<KeyValuePair<string, byte[]>> ScanMeta(string prefix)
    {
        ThrowIfUnusable();
        return meta.Where(entry => entry.Key.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <inheritdoc/>
    public void Commit(KvWriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfUnusable();
        foreach (var record in batch.Puts)
        {
            // Checked before anything is applied, so a refused batch leaves no trace.
            var lengthBytes = RevisionKey.LengthBytes + RecordCodec.MaxEncodedLength(record);
            if (lengthBytes > options.MaxRecordBytes)
            {
                throw new ArgumentException(
                    $"the record of revision {record.Revision} needs up to {lengthBytes} bytes; the engine's page size allows {options.MaxRecordBytes}",
                    nameof(batch));
            }
        }
        if (batch.IsEmpty)
        {
            return;
        }
        try
        {
            if (batch.ClearFirst)
            {
                DeleteEverything();
            }
            DeleteRecords(batch.Deletes);
            foreach (var record in batch.Puts)
            {
                PutRecord(record);
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
            session.CompletePending(wait: true);
            changedSinceCheckpoint = true;
        }
        catch (Exception e)
        {
            failure = e; // half a batch may be in FASTER's memory now: only a recovery gets back to a clean state
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to do when nothing was committed since the last checkpoint.</remarks>
    public void Checkpoint()
    {
        ThrowIfUnusable();
        if (!changedSinceCheckpoint)
        {
            return;
        }
        try
        {
            var compacted = CompactLogIfWorthIt();
            TakeCheckpoint();
            if (compacted)
            {
                // The checkpoint that records the new begin address is durable: the files below it can go. FASTER
                // deletes them on a background task; this call deletes them here and waits (unless that task got
                // there first), so the space is usually back when Checkpoint returns. Segments are files of
                // SegmentSizeBytes; the one holding the begin address stays.
                logDevice.TruncateUntilSegment((int)(store.Log.BeginAddress / options.SegmentSizeBytes));
                DirectorySync.Flush(Path.Combine(Directory, LogDirectoryName));
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        session.Dispose();
        store.Dispose();
        logDevice.Dispose();
    }

    /// <summary>
    /// Yields the live records from position <paramref name="start"/> on. Records still in memory are read by key;
    /// records already on disk are picked up by one forward pass of a log iterator over their addresses (FASTER reads
    /// the log a page at a time), which turns a full scan — a restart's index rebuild, a snapshot, a compaction — into a
    /// sequential read. A record the pass cannot find where the index says (moved, or the pass is already beyond it) is
    /// read by key instead.
    /// </summary>
    private IEnumerable<KvRecord> ScanFrom(int start)
    {
        // Read-ahead grows from a few records to the configured bound: a scan that stops early (compaction, a small
        // watch catch-up) reads little, a long one keeps many disk reads in flight.
        var chunk = Math.Min(8, options.ScanReadAheadRecords);
        var wanted = new Revision[options.ScanReadAheadRecords];
        var byKey = new Revision[options.ScanReadAheadRecords];
        var byKeyPositions = new int[options.ScanReadAheadRecords];
        var found = new KvRecord?[options.ScanReadAheadRecords];
        var readByKey = new KvRecord?[options.ScanReadAheadRecords];
        using var onDisk = new LogPass(store.Log);
        var passReadsCounted = 0L;
        for (var position = start; position < revisions.Count;)
        {
            ThrowIfUnusable();
            var count = Math.Min(chunk, revisions.Count - position);
            var byKeyCount = 0;
            for (var i = 0; i < count; i++)
            {
                wanted[i] = revisions.RevisionAt(position + i);
                found[i] = onDisk.TryRead(revisions.AddressAt(position + i), wanted[i]);
                if (found[i] is null)
                {
                    byKey[byKeyCount] = wanted[i];
                    byKeyPositions[byKeyCount++] = i;
                }
            }
            ReadRecords(byKey.AsSpan(0, byKeyCount), readByKey);
            for (var i = 0; i < byKeyCount; i++)
            {
                found[byKeyPositions[i]] = readByKey[i];
            }
            for (var i = 0; i < count; i++)
            {
                yield return found[i] ?? throw Inconsistent(wanted[i]);
            }
            position += count;
            chunk = Math.Min(chunk * 2, options.ScanReadAheadRecords);
            RecordsReadByLogPass += onDisk.RecordsRead - passReadsCounted;
            passReadsCounted = onDisk.RecordsRead;
        }
    }

    /// <summary>Reads every revision of <paramref name="wanted"/> into the same position of <paramref name="found"/>
    /// (null when absent); reads that go to disk are all issued before waiting for any.</summary>
    private void ReadRecords(ReadOnlySpan<Revision> wanted, KvRecord?[] found)
    {
        ThrowIfUnusable();
        Span<byte> keyBytes = stackalloc byte[RevisionKey.LengthBytes];
        var anyPending = false;
        for (var i = 0; i < wanted.Length; i++)
        {
            RevisionKey.Write(wanted[i], keyBytes);
            var key = SpanByte.FromFixedSpan(keyBytes); // a pending read copies its key, so reusing the bytes is safe
            KvRecord? record = null;
            var status = session.Read(ref key, ref record, i);
            ThrowIfFaulted(status, wanted[i]);
            anyPending |= status.IsPending;
            found[i] = status.Found ? record : null;
        }
        if (!anyPending)
        {
            return;
        }
        session.CompletePendingWithOutputs(out var completed, wait: true);
        using (completed)
        {
            while (completed.Next())
            {
                ref var read = ref completed.Current;
                ThrowIfFaulted(read.Status, wanted[read.Context]);
                found[read.Context] = read.Status.Found ? read.Output : null;
            }
        }
    }

    private unsafe void PutRecord(KvRecord record)
    {
        var maxLength = RecordCodec.MaxEncodedLength(record);
        if (encodeBuffer.Length < maxLength)
        {
            encodeBuffer = new byte[Math.Max(maxLength, encodeBuffer.Length * 2)];
        }
        var length = RecordCodec.Encode(record, encodeBuffer);
        Span<byte> keyBytes = stackalloc byte[RevisionKey.LengthBytes];
        RevisionKey.Write(record.Revision, keyBytes);
        // Listed first: the upsert reports the record's log address to the index (RecordFunctions).
        if (!revisions.Add(record.Revision))
        {
            deadRecordCount++; // the replaced version stays in the log until compaction
        }
        fixed (byte* valuePointer = encodeBuffer)
        {
            var key = SpanByte.FromFixedSpan(keyBytes);
            var value = SpanByte.FromPointer(valuePointer, length);
            session.Upsert(ref key, ref value);
        }
    }

    private void DeleteRecords(List<Revision> deletes)
    {
        if (deletes.Count == 0)
        {
            return;
        }
        var dropped = new HashSet<Revision>();
        foreach (var revision in deletes)
        {
            if (revisions.Contains(revision) && dropped.Add(revision))
            {
                DeleteFromStore(revision);
            }
        }
        revisions.RemoveAll(dropped);
        deadRecordCount += 2L * dropped.Count; // the record and its tombstone
    }

    /// <summary>FASTER has no "clear": every live record gets a tombstone (compaction reclaims the space later).</summary>
    private void DeleteEverything()
    {
        for (var i = 0; i < revisions.Count; i++)
        {
            DeleteFromStore(revisions.RevisionAt(i));
        }
        deadRecordCount += 2L * revisions.Count;
        revisions.Clear();
        meta = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
    }

    private void DeleteFromStore(Revision revision)
    {
        Span<byte> keyBytes = stackalloc byte[RevisionKey.LengthBytes];
        RevisionKey.Write(revision, keyBytes);
        var key = SpanByte.FromFixedSpan(keyBytes);
        session.Delete(ref key);
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (failure is not null)
        {
            throw new InvalidOperationException(
                $"the FASTER engine in '{Directory}' failed and accepts no more work; reopen it to recover its last checkpoint", failure);
        }
    }

    private void ThrowIfFaulted(Status status, Revision revision)
    {
        if (status.IsFaulted || status.IsCanceled)
        {
            throw new IOException($"reading the record of revision {revision} from the FASTER engine in '{Directory}' failed ({status})");
        }
    }

    private InvalidOperationException Inconsistent(Revision revision) =>
        new($"the FASTER engine in '{Directory}' lists revision {revision} as live but holds no record for it");
}
