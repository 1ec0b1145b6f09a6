namespace CurpStore.Wal;

/// <summary>Settings of a <see cref="WriteAheadLog"/>. Every queue and buffer the WAL owns has its bound here.</summary>
public sealed record WalOptions
{
    /// <summary>Default <see cref="SegmentSizeBytes"/>: 64 MiB, etcd's segment size, so recovery and prefix
    /// truncation work on a few large files rather than many small ones.</summary>
    public const long DefaultSegmentSizeBytes = 64L * 1024 * 1024;

    /// <summary>A segment is closed and a new one started before a record would make it larger than this. A single
    /// record larger than the segment size gets a segment of its own.</summary>
    public long SegmentSizeBytes { get; init; } = DefaultSegmentSizeBytes;

    /// <summary>Most records that may wait for the writer; one more fails with <see cref="WalFullException"/>.</summary>
    public int MaxQueuedRecords { get; init; } = 65_536;

    /// <summary>Most encoded bytes that may wait for the writer; one more record fails with
    /// <see cref="WalFullException"/>. Must be at least the largest encoded record.</summary>
    public long MaxQueuedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest payload one record may carry; larger appends are refused as an argument error. Bounds the
    /// memory the writer and the readers need for one record.</summary>
    public int MaxRecordPayloadBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Size of the writer's staging buffer: records are copied into it and written with one system call
    /// per buffer-full, so a batch of small records costs one <c>write</c> and one <c>fsync</c>.</summary>
    public int WriteBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Receives one line per notable event (a torn tail cut at open, an empty segment removed). The server
    /// routes it to its logger; the WAL itself has no logging dependency.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Told, on the writer thread, how long each fsync of a segment file took (the server's
    /// <c>etcd_disk_wal_fsync_duration_seconds</c>). Must be quick: the writer waits for it.</summary>
    public Action<TimeSpan>? FsyncObserved { get; init; }

    /// <summary>Test hook: runs on the writer thread after it wakes for queued records and before it takes them, so a
    /// test can hold the writer and fill the queue deterministically.</summary>
    internal Action? BeforeWriterTakesBatch { get; init; }

    /// <summary>Test hook: runs before every fsync of a segment file; throwing from it stands in for a failed fsync.</summary>
    internal Action? BeforeFsync { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentSizeBytes, RecordFormat.HeaderSizeBytes, nameof(SegmentSizeBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedRecords, 1, nameof(MaxQueuedRecords));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRecordPayloadBytes, nameof(MaxRecordPayloadBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRecordPayloadBytes, RecordFormat.MaxPayloadBytes, nameof(MaxRecordPayloadBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(
            MaxQueuedBytes, (long)RecordFormat.HeaderSizeBytes + MaxRecordPayloadBytes, nameof(MaxQueuedBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteBufferBytes, 4096, nameof(WriteBufferBytes));
    }
}
