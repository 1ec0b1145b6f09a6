namespace CurpStore.Wal;

/// <summary>Base of the errors the WAL reports about its own state (not argument errors).</summary>
public abstract class WalException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected WalException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The append queue is at its bound (<see cref="WalOptions.MaxQueuedRecords"/> or
/// <see cref="WalOptions.MaxQueuedBytes"/>), so the record was <b>not</b> queued and will not be written. Thrown at once
/// instead of waiting so that an overloaded disk turns into back-pressure the caller can see (shed load, answer
/// "busy"), never into unbounded memory or a silently dropped record.
/// </summary>
public sealed class WalFullException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalFullException(int queuedRecords, long queuedBytes, int maxQueuedRecords, long maxQueuedBytes)
        : base($"WAL append queue is full ({queuedRecords} records, {queuedBytes} bytes queued; bounds " +
               $"{maxQueuedRecords} records, {maxQueuedBytes} bytes); the record was not written")
    {
        QueuedRecords = queuedRecords;
        QueuedBytes = queuedBytes;
    }

    /// <summary>Records waiting for the writer when this append was refused.</summary>
    public int QueuedRecords { get; }

    /// <summary>Encoded bytes waiting for the writer when this append was refused.</summary>
    public long QueuedBytes { get; }
}

/// <summary>
/// A segment holds a record that fails its checks somewhere other than at the torn tail of the last segment: bad
/// CRC32C followed by valid data, damage in a segment that is not the last, an index that goes backwards, a record
/// whose index does not match its file name. Opening refuses to continue because skipping the record would silently
/// lose or reorder acknowledged log entries; an operator must restore the member (for example from a peer).
/// </summary>
public sealed class WalCorruptedException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalCorruptedException(string segmentPath, long offsetBytes, string reason)
        : base($"WAL segment '{segmentPath}' is corrupted at byte offset {offsetBytes}: {reason}")
    {
        SegmentPath = segmentPath;
        OffsetBytes = offsetBytes;
        Reason = reason;
    }

    /// <summary>Full path of the damaged segment file.</summary>
    public string SegmentPath { get; }

    /// <summary>Byte offset, within the file, of the first record that fails its checks.</summary>
    public long OffsetBytes { get; }

    /// <summary>What was wrong with the record.</summary>
    public string Reason { get; }
}

/// <summary>
/// A write, fsync, segment creation or truncation failed. The WAL stops accepting work after the first I/O failure:
/// after a failed fsync the kernel may already have dropped the dirty pages, so neither retrying nor carrying on could
/// tell which records are durable. Every pending and later append fails with this exception; reopen to recover.
/// </summary>
public sealed class WalFailedException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
