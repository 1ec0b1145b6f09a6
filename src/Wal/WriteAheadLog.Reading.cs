namespace CurpStore.Wal;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// The stored records with index &gt;= <paramref name="index"/>, in log order, for replay after a restart. Reads
    /// lazily, one segment at a time, and checks every CRC again. Each returned payload is a fresh array the caller
    /// may keep.
    /// </summary>
    /// <remarks>
    /// The set of segments and their lengths is fixed when enumeration starts: records appended later are not
    /// returned. Records still in the staging buffer are written out first (not synced), so a record passed to
    /// <see cref="AppendBatch"/> is visible at once; an async append becomes visible once the writer has written it. Safe alongside appends; not alongside
    /// <see cref="TruncateSuffix"/>, which may shorten a file being read.
    /// </remarks>
    /// <exception cref="WalCorruptedException">A record fails its check (the disk changed after open).</exception>
    public IEnumerable<WalRecord> ReadFrom(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return ReadSnapshot(index);
    }

    private IEnumerable<WalRecord> ReadSnapshot(long index)
    {
        (string Path, long FirstIndex, long LengthBytes)[] snapshot;
        lock (ioLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!HasFailed)
            {
                // Only the staging buffer: queued appends are the writer's, and taking them here would leave their
                // completions waiting for a sync nobody has asked for.
                RunIoLocked(FlushStagingLocked);
            }
            snapshot = [.. segments.Select(s => (s.Path, s.FirstIndex, s.LengthBytes))];
        }
        for (var i = 0; i < snapshot.Length; i++)
        {
            // Indexes never decrease, so a segment is skipped when the next one already starts below the wanted index.
            if (i + 1 < snapshot.Length && snapshot[i + 1].FirstIndex < index)
            {
                continue;
            }
            using var reader = new SegmentReader(snapshot[i].Path, snapshot[i].LengthBytes);
            var offsetBytes = 0L;
            while (ReadRecord(reader, offsetBytes) is { } record)
            {
                offsetBytes += RecordFormat.EncodedLength(record.Payload.Length);
                if (record.Index >= index)
                {
                    yield return record;
                }
            }
        }
    }

    /// <summary>The record at <paramref name="offsetBytes"/> with its payload copied, or null at the end.</summary>
    private static WalRecord? ReadRecord(SegmentReader reader, long offsetBytes)
    {
        var status = reader.TryRead(offsetBytes, out var header);
        return status switch
        {
            RecordStatus.EndOfData => null,
            RecordStatus.Valid => new WalRecord(header.Type, header.Index, reader.Payload(offsetBytes, header).ToArray()),
            _ => throw new WalCorruptedException(reader.Path, offsetBytes, $"record failed its check on read ({status})"),
        };
    }
}
