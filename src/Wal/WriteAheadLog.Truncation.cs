namespace CurpStore.Wal;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Removes every record with index &gt;= <paramref name="fromIndex"/> (a Raft log conflict: the leader's entries
    /// replace ours from there) and returns once the removal is durable. Records queued or staged before the call are
    /// written and synced first, so the cut applies to everything accepted so far; afterwards
    /// <see cref="LastIndex"/> is the last remaining record's index (-1 if none) and appends continue from there.
    /// </summary>
    /// <remarks>
    /// The cut is by index, whatever the record type: a caller that keeps hard state in this log re-appends it after
    /// the cut. Newer segments are deleted first, and the directory is synced before the boundary segment is shortened,
    /// so a crash part-way leaves a shorter log, never one with a gap. Appends from other threads wait on the
    /// WAL's lock until the truncation is done, so none is accepted against the old <see cref="LastIndex"/>.
    /// </remarks>
    /// <exception cref="WalFailedException">An I/O error; the WAL accepts nothing more.</exception>
    public void TruncateSuffix(long fromIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromIndex);
        lock (ioLock)
        {
            // stateLock for the whole operation: no append may be accepted against the old LastIndex meanwhile.
            lock (stateLock)
            {
                ThrowIfUnusableLocked();
                RunIoLocked(() =>
                {
                    WriteQueuedLocked();
                    SyncLocked();
                    if (fromIndex > lastAcceptedIndex)
                    {
                        return;
                    }
                    activeHandle?.Dispose();
                    activeHandle = null;
                    var deleted = false;
                    while (segments.Count > 0 && (segments[^1].FirstIndex >= fromIndex || segments[^1].LastIndex < 0))
                    {
                        File.Delete(segments[^1].Path);
                        segments.RemoveAt(segments.Count - 1);
                        deleted = true;
                    }
                    if (deleted)
                    {
                        DirectorySync.Flush(DirectoryPath);
                    }
                    if (segments.Count > 0)
                    {
                        var last = segments[^1];
                        if (last.LastIndex >= fromIndex)
                        {
                            CutSegment(last, fromIndex);
                        }
                        activeHandle = OpenForAppend(last.Path);
                    }
                    lastAcceptedIndex = segments.Count > 0 ? segments[^1].LastIndex : -1;
                });
            }
        }
    }

    /// <summary>
    /// Deletes the oldest segments whose records all have index &lt;= <paramref name="upToIndex"/>, after a snapshot
    /// made them unnecessary. Only whole segments go, and never the last one (it is where appends go, and it keeps
    /// <see cref="LastIndex"/> known), so records at or below <paramref name="upToIndex"/> may remain and
    /// <see cref="ReadFrom"/> may still return them. Oldest first: a crash part-way leaves a contiguous log.
    /// </summary>
    /// <returns>The number of segment files deleted.</returns>
    /// <exception cref="IOException">A deletion failed; the log is intact (segments deleted before it stay deleted).</exception>
    public int TruncatePrefix(long upToIndex)
    {
        lock (ioLock)
        {
            ThrowIfUnusableLocked();
            var deletedCount = 0;
            try
            {
                while (segments.Count > 1 && segments[0].LastIndex <= upToIndex)
                {
                    File.Delete(segments[0].Path);
                    segments.RemoveAt(0);
                    deletedCount++;
                }
            }
            finally
            {
                if (deletedCount > 0)
                {
                    DirectorySync.Flush(DirectoryPath);
                }
            }
            return deletedCount;
        }
    }

    /// <summary>Shortens <paramref name="segment"/> to end before its first record with index &gt;=
    /// <paramref name="fromIndex"/>, durably.</summary>
    private static void CutSegment(Segment segment, long fromIndex)
    {
        var cutOffsetBytes = 0L;
        var lastKeptIndex = -1L;
        using (var reader = new SegmentReader(segment.Path, segment.LengthBytes))
        {
            while (true)
            {
                var status = reader.TryRead(cutOffsetBytes, out var header);
                if (status == RecordStatus.EndOfData)
                {
                    break;
                }
                if (status != RecordStatus.Valid)
                {
                    throw new WalCorruptedException(segment.Path, cutOffsetBytes,
                        $"record failed its check ({status}) while looking for index {fromIndex} to truncate the suffix");
                }
                if (header.Index >= fromIndex)
                {
                    break;
                }
                lastKeptIndex = header.Index;
                cutOffsetBytes += header.EncodedLength;
            }
        }
        using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        RandomAccess.SetLength(handle, cutOffsetBytes);
        RandomAccess.FlushToDisk(handle);
        segment.LengthBytes = cutOffsetBytes;
        segment.LastIndex = lastKeptIndex;
    }
}
