using Microsoft.Win32.SafeHandles;

namespace CurpStore.Wal;

/// <summary>What <see cref="SegmentReader.TryRead"/> found at an offset.</summary>
internal enum RecordStatus
{
    /// <summary>A whole record whose CRC matches.</summary>
    Valid,

    /// <summary>The offset is exactly the end of the readable bytes: a clean end.</summary>
    EndOfData,

    /// <summary>The header or the payload it announces runs past the end of the readable bytes.</summary>
    Incomplete,

    /// <summary>A whole record whose CRC does not match (or whose index cannot be a stored index).</summary>
    BadChecksum,
}

/// <summary>The decoded header of a valid record.</summary>
internal readonly record struct RecordHeader(byte Type, long Index, int PayloadLength)
{
    public int EncodedLength => RecordFormat.HeaderSizeBytes + PayloadLength;
}

/// <summary>
/// Random-access reader of one segment file through a sliding window, so a sequential scan costs one
/// <c>pread</c> per window rather than two per record, and the torn-tail check can probe every byte offset without a
/// system call each. Used by recovery, <see cref="WriteAheadLog.TruncateSuffix"/> and <see cref="WriteAheadLog.ReadFrom"/>.
/// </summary>
/// <remarks>Not thread-safe: one reader per scan. Opens the file with <see cref="FileShare.ReadWrite"/> and
/// <see cref="FileShare.Delete"/> so it never blocks the writer or prefix truncation.</remarks>
internal sealed class SegmentReader : IDisposable
{
    private const int DefaultWindowBytes = 1024 * 1024;

    private readonly SafeFileHandle handle;
    private byte[] window;
    private long windowStartOffset;
    private int windowCount;

    /// <param name="path">Segment file.</param>
    /// <param name="lengthLimitBytes">Read no further than this (a reader started while the writer appends reads the
    /// length known at that moment); null reads the whole file.</param>
    /// <param name="windowBytes">Initial window size; it grows to hold the largest record met.</param>
    public SegmentReader(string path, long? lengthLimitBytes = null, int windowBytes = DefaultWindowBytes)
    {
        Path = path;
        handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var fileLengthBytes = RandomAccess.GetLength(handle);
        LengthBytes = lengthLimitBytes is { } limit ? Math.Min(limit, fileLengthBytes) : fileLengthBytes;
        window = new byte[(int)Math.Clamp(LengthBytes, 1, windowBytes)];
    }

    public string Path { get; }

    /// <summary>Readable bytes: the file length, or the limit given at construction if smaller.</summary>
    public long LengthBytes { get; }

    /// <summary>Decodes and checks the record starting at <paramref name="offsetBytes"/>. On
    /// <see cref="RecordStatus.Valid"/>, <see cref="Payload"/> returns its bytes until the next call.</summary>
    public RecordStatus TryRead(long offsetBytes, out RecordHeader header)
    {
        header = default;
        var remainingBytes = LengthBytes - offsetBytes;
        if (remainingBytes == 0)
        {
            return RecordStatus.EndOfData;
        }
        if (remainingBytes < RecordFormat.HeaderSizeBytes)
        {
            return RecordStatus.Incomplete;
        }
        EnsureWindow(offsetBytes, RecordFormat.HeaderSizeBytes);
        var headerBytes = WindowSpan(offsetBytes, RecordFormat.HeaderSizeBytes);
        var payloadLength = RecordFormat.ReadPayloadLength(headerBytes);
        if (payloadLength > RecordFormat.MaxPayloadBytes || payloadLength > remainingBytes - RecordFormat.HeaderSizeBytes)
        {
            return RecordStatus.Incomplete;
        }
        var storedCrc = RecordFormat.ReadCrc(headerBytes);
        var type = headerBytes[RecordFormat.TypeOffset];
        var rawIndex = RecordFormat.ReadIndex(headerBytes);
        var encodedLength = RecordFormat.HeaderSizeBytes + (int)payloadLength;
        EnsureWindow(offsetBytes, encodedLength);
        var checkedBytes = WindowSpan(offsetBytes, encodedLength)[RecordFormat.TypeOffset..];
        if (Crc32C.Compute(checkedBytes) != storedCrc || rawIndex > long.MaxValue)
        {
            return RecordStatus.BadChecksum;
        }
        header = new RecordHeader(type, (long)rawIndex, (int)payloadLength);
        return RecordStatus.Valid;
    }

    /// <summary>The payload of the record <see cref="TryRead"/> just validated at <paramref name="offsetBytes"/>.</summary>
    public ReadOnlySpan<byte> Payload(long offsetBytes, RecordHeader header) =>
        WindowSpan(offsetBytes + RecordFormat.HeaderSizeBytes, header.PayloadLength);

    /// <summary>
    /// Whether any byte offset at or after <paramref name="startOffsetBytes"/> holds a valid record with an index of at
    /// least <paramref name="minIndex"/>. This is what separates a torn tail (a crash during a write leaves garbage,
    /// zeros or a partial record, but nothing valid after it) from damage in the middle (valid records follow). It
    /// probes every offset because the damaged record's own length field may be the damaged byte. Cheap in practice:
    /// most offsets fail the index or length plausibility test before any CRC is computed.
    /// </summary>
    public bool HasValidRecordAfter(long startOffsetBytes, long minIndex)
    {
        for (var offset = startOffsetBytes; offset + RecordFormat.HeaderSizeBytes <= LengthBytes; offset++)
        {
            EnsureWindow(offset, RecordFormat.HeaderSizeBytes);
            var headerBytes = WindowSpan(offset, RecordFormat.HeaderSizeBytes);
            var rawIndex = RecordFormat.ReadIndex(headerBytes);
            var payloadLength = RecordFormat.ReadPayloadLength(headerBytes);
            if (rawIndex > long.MaxValue || (long)rawIndex < minIndex ||
                payloadLength > LengthBytes - offset - RecordFormat.HeaderSizeBytes)
            {
                continue;
            }
            if (TryRead(offset, out _) == RecordStatus.Valid)
            {
                return true;
            }
        }
        return false;
    }

    public void Dispose() => handle.Dispose();

    private ReadOnlySpan<byte> WindowSpan(long offsetBytes, int count) =>
        window.AsSpan((int)(offsetBytes - windowStartOffset), count);

    /// <summary>Makes [offset, offset + count) resident in the window; the caller has checked it lies within
    /// <see cref="LengthBytes"/>.</summary>
    private void EnsureWindow(long offsetBytes, int count)
    {
        if (offsetBytes >= windowStartOffset && offsetBytes + count <= windowStartOffset + windowCount)
        {
            return;
        }
        if (count > window.Length)
        {
            // Grow for a record larger than the window; bounded by the record-size limit checked by the caller.
            window = new byte[(int)Math.Min(Math.Max(count, 2L * window.Length), RecordFormat.HeaderSizeBytes + (long)RecordFormat.MaxPayloadBytes)];
        }
        windowStartOffset = offsetBytes;
        var wantedBytes = (int)Math.Min(window.Length, LengthBytes - offsetBytes);
        windowCount = 0;
        while (windowCount < wantedBytes)
        {
            var readBytes = RandomAccess.Read(handle, window.AsSpan(windowCount, wantedBytes - windowCount), offsetBytes + windowCount);
            if (readBytes == 0)
            {
                // The file shrank under us (a concurrent suffix truncation); what is missing reads as absent.
                break;
            }
            windowCount += readBytes;
        }
        if (windowCount < count)
        {
            throw new IOException($"WAL segment '{Path}' is shorter than expected: wanted {count} bytes at offset {offsetBytes}, " +
                                  $"read {windowCount}");
        }
    }
}
