using CurpStore.Curp;
using CurpStore.Server.Hosting;
using CurpStore.Wal;
using CurpStore.Wire;
using Google.Protobuf;
using W = CurpStore.Rpc.CurpWire;

namespace CurpStore.Server.Storage;

/// <summary>
/// A member's durable state on disk: every <see cref="Ready"/> batch becomes WAL records (log entries, hard state,
/// witness-pool changes, snapshot markers) written, with one fsync when the batch needs it, before the host sends its
/// messages; snapshot images live in their own files. Like etcd's WAL the log is append-only: a later record supersedes an earlier one on replay
/// (entries from a conflicting leader replace ours from their first index on). After a snapshot, a checkpoint of the
/// small state (hard state, pool) is written and whole segments before it are deleted.
/// </summary>
public sealed class WalMemberStorage : IMemberStorage, IDisposable
{
    private const byte RecordType = 1;

    private readonly WireCodec codec;
    private readonly WriteAheadLog wal;
    private readonly string snapshotDirectory;
    private readonly MemoryStorage mirror = new();
    private readonly SortedDictionary<ulong, long> entrySequence = [];
    private long sequence;
    private HardState writtenHardState;

    private WalMemberStorage(string dataDirectory, WireCodec codec, Action<string>? log, Action<TimeSpan>? fsyncObserved)
    {
        this.codec = codec;
        snapshotDirectory = Path.Combine(dataDirectory, "snap");
        Directory.CreateDirectory(snapshotDirectory);
        wal = WriteAheadLog.Open(Path.Combine(dataDirectory, "wal"), new WalOptions { Log = log, FsyncObserved = fsyncObserved });
        sequence = Math.Max(0, wal.LastIndex); // -1 when the WAL is empty
        Replay();
        writtenHardState = mirror.Load().HardState;
    }

    /// <summary>Opens (or creates) the member's storage under <paramref name="dataDirectory"/>. A corrupt WAL record
    /// stops the open with an error naming the file and offset (<see cref="WalException"/>).
    /// <paramref name="fsyncObserved"/> is told the duration of every fsync of the WAL (for the metrics).</summary>
    public static WalMemberStorage Open(string dataDirectory, WireCodec codec, Action<string>? log = null, Action<TimeSpan>? fsyncObserved = null) =>
        new(dataDirectory, codec, log, fsyncObserved);

    public PersistentState Load() => mirror.Load();

    public void Persist(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!ready.MustPersist)
        {
            return;
        }
        var records = new List<WalRecord>();
        if (ready.Snapshot is { } snapshot)
        {
            // The image first (its own file, fsynced), then the marker that points at it.
            // An image the host already wrote (WriteImage) is only named; any other is written now.
            var stateBytes = snapshot.State is SnapshotFile written && written.Path == SnapshotPath(snapshot.Index)
                ? written.LengthBytes
                : WriteSnapshotFile(snapshot.Index, snapshot.State);
            records.Add(Record(new W.WalRecord { Snapshot = codec.EncodeMeta(snapshot, stateBytes) }));
        }
        foreach (var entry in ready.Entries)
        {
            records.Add(Record(new W.WalRecord { Entry = codec.Encode(entry) }));
            entrySequence[entry.Index] = sequence;
        }
        var mustSync = ready.Snapshot is not null || !ready.Entries.IsEmpty || !ready.PoolAdded.IsEmpty;
        if (ready.HardState is { } hardState)
        {
            records.Add(Record(new W.WalRecord { HardState = WireCodec.Encode(hardState) }));
            mustSync |= hardState.Term != writtenHardState.Term || hardState.VotedFor != writtenHardState.VotedFor;
            writtenHardState = hardState;
        }
        foreach (var added in ready.PoolAdded)
        {
            records.Add(Record(new W.WalRecord { PoolAdded = codec.Encode(added) }));
        }
        foreach (var removed in ready.PoolRemoved)
        {
            records.Add(Record(new W.WalRecord { PoolRemoved = WireCodec.Encode(removed) }));
        }
        wal.AppendBatch(records);
        // etcd's MustSync, plus the witness's promise: entries, a snapshot, a pool addition, a new term or vote must be
        // on disk before the batch's messages go out. A commit index or pool removals alone need not: after a crash the
        // member learns the commit index from the leader again, and applying an entry (or finding its session settled)
        // removes its command from the pool again, so their records ride on the next fsync. A follower otherwise paid
        // up to two more fsyncs per write, each holding up its loop.
        if (mustSync)
        {
            wal.Sync();
        }
        // The mirror keeps the snapshot as its file, not as a second in-memory copy of the store.
        mirror.Persist(ready.Snapshot is { } persisted && PersistedImage(persisted) is { } image
            ? new Ready { HardState = ready.HardState, Entries = ready.Entries, Snapshot = persisted with { State = image }, PoolAdded = ready.PoolAdded, PoolRemoved = ready.PoolRemoved }
            : ready);
        if (ready.Snapshot is { } compacted)
        {
            Compact(compacted.Index);
        }
    }

    /// <summary>Writes the image of the snapshot the core is taking at <paramref name="index"/> to its file now (fsynced),
    /// and returns the file for the core to keep: a live image (<see cref="Store.EtcdLiveImage"/>) is read from the
    /// engine as it is written, so the store is never copied in memory. <see cref="Persist"/> then only records it. A
    /// crash before that record leaves a file no record names, which the next snapshot's clean-up removes.</summary>
    public SnapshotFile WriteImage(ulong index, IStateSnapshot image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var lengthBytes = WriteSnapshotFile(index, image);
        return new SnapshotFile(SnapshotPath(index), lengthBytes, index, codec.Commands);
    }

    public IStateSnapshot? PersistedImage(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var path = SnapshotPath(snapshot.Index);
        return File.Exists(path) ? new SnapshotFile(path, new FileInfo(path).Length, snapshot.Index, codec.Commands) : null;
    }

    public void Dispose() => wal.Dispose();

    private WalRecord Record(W.WalRecord record) => new(RecordType, ++sequence, record.ToByteArray());

    /// <summary>Rebuilds the mirror from the WAL. Compaction drops whole segments only, so the first segment kept may
    /// still name older snapshots whose files are gone; snapshot files are opened only when needed, and only the newest
    /// one must exist, as checked at the end.</summary>
    private void Replay()
    {
        foreach (var record in wal.ReadFrom(Math.Max(0, wal.FirstIndex)))
        {
            if (record.Type != RecordType)
            {
                throw new InvalidDataException($"WAL record {record.Index} has unknown type {record.Type}");
            }
            var wire = W.WalRecord.Parser.ParseFrom(record.Payload.Span);
            var ready = wire.RecordCase switch
            {
                W.WalRecord.RecordOneofCase.Entry => new Ready { Entries = [codec.Decode(wire.Entry)] },
                W.WalRecord.RecordOneofCase.HardState => new Ready { HardState = WireCodec.Decode(wire.HardState) },
                W.WalRecord.RecordOneofCase.Snapshot => new Ready { Snapshot = codec.DecodeSnapshot(wire.Snapshot, SnapshotFileOf(wire.Snapshot)) },
                W.WalRecord.RecordOneofCase.PoolAdded => new Ready { PoolAdded = [codec.Decode(wire.PoolAdded)] },
                W.WalRecord.RecordOneofCase.PoolRemoved => new Ready { PoolRemoved = [WireCodec.Decode(wire.PoolRemoved)] },
                _ => throw new InvalidDataException($"WAL record {record.Index} is empty"),
            };
            if (wire.RecordCase == W.WalRecord.RecordOneofCase.Entry)
            {
                entrySequence[wire.Entry.Index] = record.Index;
            }
            mirror.Persist(ready);
        }
        if (mirror.Load().Snapshot?.State is SnapshotFile latest)
        {
            latest.Validate(); // a missing or truncated image stops the start, naming the file
        }
    }

    /// <summary>After a snapshot at <paramref name="snapshotIndex"/>: re-write the small state as a checkpoint, then drop
    /// whole segments that hold only records the snapshot and the checkpoint supersede.</summary>
    private void Compact(ulong snapshotIndex)
    {
        var state = mirror.Load();
        var checkpointStart = sequence + 1;
        var checkpoint = new List<WalRecord>();
        if (state.Snapshot is { } snapshot)
        {
            var stateBytes = new FileInfo(SnapshotPath(snapshot.Index)).Length;
            checkpoint.Add(Record(new W.WalRecord { Snapshot = codec.EncodeMeta(snapshot, stateBytes) }));
        }
        checkpoint.Add(Record(new W.WalRecord { HardState = WireCodec.Encode(state.HardState) }));
        checkpoint.AddRange(state.Pool.Select(p => Record(new W.WalRecord { PoolAdded = codec.Encode(p) })));
        wal.AppendBatch(checkpoint);
        wal.Sync();
        foreach (var index in entrySequence.Keys.TakeWhile(i => i <= snapshotIndex).ToList())
        {
            entrySequence.Remove(index);
        }
        var firstNeeded = entrySequence.Count > 0 ? Math.Min(entrySequence.Values.Min(), checkpointStart) : checkpointStart;
        wal.TruncatePrefix(firstNeeded - 1);
        // Keep the previous image too (names are fixed-width hex, so ordinal order is index order): a message built
        // from it may still be on its way out.
        foreach (var file in Directory.EnumerateFiles(snapshotDirectory, "*.snap").Order(StringComparer.Ordinal).SkipLast(2))
        {
            if (file != SnapshotPath(snapshotIndex))
            {
                File.Delete(file);
            }
        }
    }

    private string SnapshotPath(ulong index) => Path.Combine(snapshotDirectory, $"{index:x16}.snap");

    /// <summary>Writes the image to its file as it is encoded (see <see cref="ICommandCodec.WriteSnapshot"/>), fsynced;
    /// returns its length.</summary>
    private long WriteSnapshotFile(ulong index, IStateSnapshot state)
    {
        var path = SnapshotPath(index);
        var temporary = path + ".tmp";
        long lengthBytes;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
        {
            codec.Commands.WriteSnapshot(state, file);
            file.Flush(flushToDisk: true);
            lengthBytes = file.Length;
        }
        File.Move(temporary, path, overwrite: true);
        return lengthBytes;
    }

    /// <summary>The image a snapshot record names, read only when it is needed (a restart whose engine already holds the
    /// snapshot's index never reads it). Older records name files that later snapshots replaced; only the latest
    /// snapshot's file must exist, which <see cref="Replay"/> checks at the end.</summary>
    private SnapshotFile SnapshotFileOf(W.SnapshotMeta meta) => new(SnapshotPath(meta.Index), (long)meta.StateBytes, meta.Index, codec.Commands);
}
