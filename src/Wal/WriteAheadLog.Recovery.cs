namespace CurpStore.Wal;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Reads every segment in index order and checks every record: length within the file, CRC-32C, indexes
    /// non-decreasing, the first record's index equal to the file name's. Decides what a failing record means:
    /// <list type="bullet">
    /// <item>in a segment that is not the last: corruption, because a segment is fsynced before the next is created,
    /// so no crash can leave it torn;</item>
    /// <item>in the last segment, with a valid record anywhere after it: corruption in the middle;</item>
    /// <item>in the last segment, with nothing valid after it: a torn tail (a crash during a write, whose fsync never
    /// completed, so no append of it was acknowledged). It is cut off and reported.</item>
    /// </list>
    /// A last segment left with no whole record (a crash right after a rollover) is deleted, so the next append
    /// starts a segment named after its own index.
    /// </summary>
    private static (List<Segment> Segments, WalRecoveryInfo Info) Recover(string directoryPath, WalOptions options)
    {
        var segments = ListSegments(directoryPath);
        var previousIndex = -1L;
        var recordCount = 0L;
        string? tornPath = null;
        var tornOffsetBytes = 0L;
        var droppedBytes = 0L;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var isLast = i == segments.Count - 1;
            if (segment.FirstIndex < previousIndex)
            {
                throw new WalCorruptedException(segment.Path, 0,
                    $"the file name's first index {segment.FirstIndex} is below index {previousIndex} of the previous segment's last record");
            }
            using var reader = new SegmentReader(segment.Path);
            var offsetBytes = 0L;
            while (true)
            {
                var status = reader.TryRead(offsetBytes, out var header);
                if (status == RecordStatus.EndOfData)
                {
                    break;
                }
                if (status == RecordStatus.Valid)
                {
                    if (segment.LastIndex < 0 && header.Index != segment.FirstIndex)
                    {
                        throw new WalCorruptedException(segment.Path, offsetBytes,
                            $"the first record has index {header.Index} but the file name says {segment.FirstIndex}");
                    }
                    if (header.Index < previousIndex)
                    {
                        throw new WalCorruptedException(segment.Path, offsetBytes,
                            $"record index {header.Index} goes backwards (the record before has {previousIndex})");
                    }
                    previousIndex = header.Index;
                    segment.LastIndex = header.Index;
                    offsetBytes += header.EncodedLength;
                    recordCount++;
                    continue;
                }
                var damage = status == RecordStatus.Incomplete
                    ? "the record is incomplete (its header or payload runs past the end of the file)"
                    : "CRC-32C mismatch";
                if (!isLast)
                {
                    throw new WalCorruptedException(segment.Path, offsetBytes, $"{damage}, in a segment that is not the last");
                }
                if (reader.HasValidRecordAfter(offsetBytes + 1, Math.Max(previousIndex, segment.FirstIndex)))
                {
                    throw new WalCorruptedException(segment.Path, offsetBytes, $"{damage}, and valid records follow it");
                }
                tornPath = segment.Path;
                tornOffsetBytes = offsetBytes;
                droppedBytes = reader.LengthBytes - offsetBytes;
                break;
            }
            segment.LengthBytes = offsetBytes;
            if (!isLast && segment.LastIndex < 0)
            {
                // A segment is only created to take a record right away, and fsynced before the next is created.
                throw new WalCorruptedException(segment.Path, 0, "the segment holds no record, yet it is not the last");
            }
        }

        if (tornPath is not null)
        {
            CutTornTail(tornPath, tornOffsetBytes);
            options.Log?.Invoke(
                $"WAL: cut a torn tail from '{tornPath}' at byte offset {tornOffsetBytes}: dropped {droppedBytes} bytes " +
                "(an incomplete or damaged last record from a crash during a write)");
        }
        string? removedPath = null;
        if (segments.Count > 0 && segments[^1].LastIndex < 0)
        {
            removedPath = segments[^1].Path;
            File.Delete(removedPath);
            DirectorySync.Flush(directoryPath);
            segments.RemoveAt(segments.Count - 1);
            options.Log?.Invoke($"WAL: removed '{removedPath}', a last segment that held no whole record");
        }
        var info = new WalRecoveryInfo
        {
            SegmentCount = segments.Count,
            RecordCount = recordCount,
            DroppedTailBytes = droppedBytes,
            TornTailSegmentPath = tornPath,
            TornTailOffsetBytes = tornOffsetBytes,
            RemovedEmptySegmentPath = removedPath,
        };
        return (segments, info);
    }

    /// <summary>The segment files of the directory, ordered by first index. A file that looks like a segment but
    /// whose name does not parse is reported rather than ignored, since ignoring it could hide part of the log.</summary>
    private static List<Segment> ListSegments(string directoryPath)
    {
        var segments = new List<Segment>();
        foreach (var path in Directory.EnumerateFiles(directoryPath))
        {
            var fileName = Path.GetFileName(path);
            if (!Segment.LooksLikeSegment(fileName))
            {
                continue;
            }
            if (!Segment.TryParseFileName(fileName, out var firstIndex))
            {
                throw new WalCorruptedException(path, 0, "the file name is not wal-<16 lowercase hex digits>.log");
            }
            segments.Add(new Segment(path, firstIndex));
        }
        segments.Sort((a, b) => a.FirstIndex.CompareTo(b.FirstIndex));
        return segments;
    }

    private static void CutTornTail(string segmentPath, long lengthBytes)
    {
        using var handle = File.OpenHandle(segmentPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.SetLength(handle, lengthBytes);
        RandomAccess.FlushToDisk(handle);
    }
}
