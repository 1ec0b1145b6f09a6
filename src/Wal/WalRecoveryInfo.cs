namespace CurpStore.Wal;

/// <summary>What <see cref="WriteAheadLog.Open"/> found and repaired. The same facts go to
/// <see cref="WalOptions.Log"/> as text.</summary>
public sealed record WalRecoveryInfo
{
    /// <summary>Segment files in use after recovery.</summary>
    public required int SegmentCount { get; init; }

    /// <summary>Whole, checked records found.</summary>
    public required long RecordCount { get; init; }

    /// <summary>Bytes cut from the end of the last segment: an incomplete or damaged last record left by a crash
    /// during a write (never acknowledged, since its fsync had not completed). 0 when the log ended cleanly.</summary>
    public long DroppedTailBytes { get; init; }

    /// <summary>The segment whose torn tail was cut, or null.</summary>
    public string? TornTailSegmentPath { get; init; }

    /// <summary>Where the cut was made (the end of the last whole record) in <see cref="TornTailSegmentPath"/>.</summary>
    public long TornTailOffsetBytes { get; init; }

    /// <summary>A last segment that held no whole record and was deleted (a crash right after a rollover), or null.</summary>
    public string? RemovedEmptySegmentPath { get; init; }
}
