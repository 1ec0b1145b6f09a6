using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>
/// Sizes of the FASTER store under the etcd state machine. The defaults suit a metadata store of a few million keys:
/// at most <see cref="LogMemorySizeBytes"/> of records in memory, the rest read back from the log files on demand.
/// </summary>
public sealed record FasterKvEngineOptions
{
    /// <summary>Size of FASTER's hash index (64-byte buckets of 7 entries; overflow buckets are added as needed): 16 MiB
    /// = 256 Ki buckets, room for about 1.8 million records before chains grow.</summary>
    public long IndexSizeBytes { get; init; } = 16L << 20;

    /// <summary>The in-memory part of the log (the most recent records); older pages are evicted to the log files.</summary>
    public long LogMemorySizeBytes { get; init; } = 256L << 20;

    /// <summary>A log page. A record must fit in one page, so this bounds the record size (see
    /// <see cref="MaxRecordBytes"/>).</summary>
    public long PageSizeBytes { get; init; } = 4L << 20;

    /// <summary>One log file. Space comes back a whole file at a time once log compaction moves the begin address past
    /// it, so smaller files give space back sooner.</summary>
    public long SegmentSizeBytes { get; init; } = 64L << 20;

    /// <summary>Fold-over (default) flushes the log up to its tail at each checkpoint and writes only what is new since
    /// the last one; snapshot copies the whole in-memory part of the log to a side file every time. Measured on 200,000
    /// keys in memory, 10,000 puts then a checkpoint: 10 µs per put with fold-over, 27 µs with snapshot
    /// (bench/Store/CheckpointBenchmarks.cs).</summary>
    public CheckpointType CheckpointKind { get; init; } = CheckpointType.FoldOver;

    /// <summary>Log compaction runs at a checkpoint once the log spans at least this many bytes and holds at least as
    /// many dead records (compacted revisions, tombstones, replaced records) as live ones.</summary>
    public long CompactionMinLogBytes { get; init; } = 256L << 20;

    /// <summary>Reads an ordered scan keeps in flight: records on disk come back in parallel instead of one disk read
    /// at a time.</summary>
    public int ScanReadAheadRecords { get; init; } = 256;

    /// <summary>The largest encoded record accepted: a page minus FASTER's record header; a bigger one fails
    /// <see cref="IKvEngine.Commit"/> before anything of the batch is applied.</summary>
    public long MaxRecordBytes => PageSizeBytes - 64;

    /// <summary>Small sizes for tests: many stores open at once, and a tiny memory budget makes reads go to disk.</summary>
    public static FasterKvEngineOptions Small { get; } = new()
    {
        IndexSizeBytes = 64L << 10,
        LogMemorySizeBytes = 8L << 20,
        PageSizeBytes = 2L << 20,
        SegmentSizeBytes = 4L << 20,
        CompactionMinLogBytes = 4L << 20,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first size FASTER would reject.</summary>
    public void Validate()
    {
        RequirePowerOfTwo(IndexSizeBytes, nameof(IndexSizeBytes), 64);
        RequirePowerOfTwo(PageSizeBytes, nameof(PageSizeBytes), 4096);
        RequirePowerOfTwo(LogMemorySizeBytes, nameof(LogMemorySizeBytes), 2 * PageSizeBytes);
        RequirePowerOfTwo(SegmentSizeBytes, nameof(SegmentSizeBytes), PageSizeBytes);
        if (CompactionMinLogBytes < 0)
        {
            throw new ArgumentException($"{nameof(CompactionMinLogBytes)} must not be negative, not {CompactionMinLogBytes}");
        }
        if (ScanReadAheadRecords is < 1 or > 65_536)
        {
            throw new ArgumentException($"{nameof(ScanReadAheadRecords)} must be within 1..65536, not {ScanReadAheadRecords}");
        }
    }

    private static void RequirePowerOfTwo(long value, string name, long minimum)
    {
        if (value < minimum || (value & (value - 1)) != 0)
        {
            throw new ArgumentException($"{name} must be a power of two of at least {minimum}, not {value}");
        }
    }
}
