namespace CurpStore.Wal;

/// <summary>
/// One record of the log: an opaque payload with a caller-defined type byte and a 64-bit index. The WAL does not
/// interpret the payload (the server encodes Raft entries, hard state and pool records with protobuf); it only needs
/// the index to order, find and truncate records.
/// </summary>
/// <remarks>
/// Indexes are non-decreasing in append order. Raft entries carry their log index; a record that is not an entry
/// (hard state, a speculative-pool change) carries the index of the last entry it follows, so that
/// <see cref="WriteAheadLog.TruncateSuffix"/> and <see cref="WriteAheadLog.TruncatePrefix"/> stay a cut at one
/// position. Several records may share an index. This is a plain struct without value equality because
/// <see cref="ReadOnlyMemory{T}"/> compares by reference, which would make record equality misleading.
/// </remarks>
public readonly struct WalRecord
{
    /// <summary>Creates a record.</summary>
    /// <param name="type">Caller-defined record kind (entry, hard state, ...); the WAL stores it and never reads it.</param>
    /// <param name="index">Position in the log, at least 0 and not below the index of the record appended before.</param>
    /// <param name="payload">The bytes to store.</param>
    public WalRecord(byte type, long index, ReadOnlyMemory<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Type = type;
        Index = index;
        Payload = payload;
    }

    /// <summary>Caller-defined record kind.</summary>
    public byte Type { get; }

    /// <summary>Position in the log (non-decreasing in append order).</summary>
    public long Index { get; }

    /// <summary>The stored bytes. Records returned by <see cref="WriteAheadLog.ReadFrom"/> own a fresh array.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <inheritdoc/>
    public override string ToString() => $"WalRecord(type {Type}, index {Index}, {Payload.Length} bytes)";
}
