using System.Buffers;
using System.Diagnostics;

namespace CurpStore.Wal;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Longest the writer holds a ready batch back while the previous batch's completions are still being delivered
    /// (see <see cref="WriterLoop"/>). A liveness bound only: delivery normally ends within microseconds and wakes the
    /// writer itself; the bound matters when a continuation blocks, for example waiting synchronously on a later append,
    /// which would otherwise wait for a writer that waits for it.
    /// </summary>
    private static readonly TimeSpan DeliveryWaitLimit = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The group-commit loop on its own thread (fsync blocks, so it must not hold a thread-pool thread). It sleeps
    /// until something is queued, then takes <i>everything</i> queued, writes it, fsyncs once and hands the whole batch
    /// to <see cref="CompleteBatch"/>. While it waits for the disk, new appends pile up and form the next batch: the
    /// more appenders, the larger the batches.
    /// </summary>
    /// <remarks>
    /// One refinement: while the completions of the previous batch are being delivered, the writer does not start the
    /// next batch at the first new record. Appenders usually append again from their continuation; starting at once
    /// would take the first few and leave the rest for the batch after, which settles into half-size batches and half
    /// the throughput. So the writer waits for the delivery to end (it is woken then), or for
    /// <see cref="DeliveryWaitLimit"/> at most. That costs a record arriving meanwhile the delivery time in latency.
    /// </remarks>
    private void WriterLoop()
    {
        while (true)
        {
            lock (stateLock)
            {
                var heldForDelivery = false;
                while (!closing)
                {
                    if (queue.Count == 0 && !writerSyncRequested)
                    {
                        writerWaiting = true;
                        Monitor.Wait(stateLock);
                    }
                    else if (deliveriesInProgress > 0 && !heldForDelivery)
                    {
                        heldForDelivery = true;
                        writerWaiting = true;
                        Monitor.Wait(stateLock, DeliveryWaitLimit);
                    }
                    else
                    {
                        break;
                    }
                }
                writerWaiting = false;
                if (queue.Count == 0 && !writerSyncRequested)
                {
                    return; // closing, and nothing left to write
                }
                writerSyncRequested = false;
            }
            options.BeforeWriterTakesBatch?.Invoke();
            lock (ioLock)
            {
                try
                {
                    WriteQueuedLocked();
                    SyncLocked();
                }
                catch (Exception e)
                {
                    // The appends of the batch fail with the error; nothing escapes the thread.
                    FailLocked(e);
                }
            }
        }
    }

    /// <summary>Wakes the writer if it sleeps and nothing holds it back. Call with stateLock held.</summary>
    private void WakeWriterLocked()
    {
        // During a delivery the writer is deliberately held back (see WriterLoop); the delivery's end wakes it.
        if (writerWaiting && deliveriesInProgress == 0)
        {
            writerWaiting = false;
            Monitor.Pulse(stateLock);
        }
    }

    /// <summary>
    /// Asks the writer for one write-and-sync cycle even though the queue is empty: <see cref="AppendBatch"/> took
    /// queued appends out of the queue to keep them ahead of its batch, and their appenders are waiting for an fsync
    /// that the caller of <see cref="AppendBatch"/> may not ask for soon. Call with stateLock held.
    /// </summary>
    private void RequestWriterSyncLocked()
    {
        writerSyncRequested = true;
        WakeWriterLocked();
    }

    /// <summary>Moves every queued append to <see cref="unsynced"/>, in order. Call with ioLock and stateLock held.</summary>
    private void DrainQueueLocked()
    {
        while (queue.TryDequeue(out var pending))
        {
            unsynced.Add(pending);
        }
        queuedBytes = 0;
    }

    /// <summary>Writes every append taken from the queue and not yet written. Call with ioLock held.</summary>
    private void WriteDrainedLocked()
    {
        foreach (var pending in unsynced)
        {
            if (pending.EncodedBuffer is null)
            {
                continue; // written by an earlier step of the same sync cycle
            }
            WriteEncodedLocked(pending.Encoded, pending.Index);
            pending.ReturnBuffer();
        }
    }

    /// <summary>Call with ioLock held.</summary>
    private void WriteQueuedLocked()
    {
        lock (stateLock)
        {
            DrainQueueLocked();
        }
        WriteDrainedLocked();
    }

    /// <summary>Writes out the staging buffer and fsyncs the active segment if it changed, then completes every
    /// append written so far. Call with ioLock held.</summary>
    private void SyncLocked()
    {
        FlushStagingLocked();
        if (activeDirty)
        {
            FsyncActiveLocked();
        }
        CompleteBatch(unsynced, error: null);
    }

    private void FsyncActiveLocked()
    {
        options.BeforeFsync?.Invoke();
        var started = Stopwatch.GetTimestamp();
        RandomAccess.FlushToDisk(activeHandle!);
        options.FsyncObserved?.Invoke(Stopwatch.GetElapsedTime(started));
        activeDirty = false;
        Interlocked.Increment(ref syncCount);
    }

    /// <summary>Most appends one completion work item delivers: bounds how long the last continuation of a large batch
    /// waits behind the others, and lets a large batch be delivered on several cores.</summary>
    private const int CompletionsPerWorkItem = 64;

    /// <summary>
    /// Completes a batch (moving it out of <paramref name="batch"/>) from thread-pool work items that each run up to
    /// <see cref="CompletionsPerWorkItem"/> appenders' continuations one after another. Not on the writer thread, so
    /// caller code can never delay an fsync or deadlock the writer (a continuation may call <see cref="Dispose"/>,
    /// which waits for the writer). Not one work item per append either: continuations that append again then
    /// re-queue within microseconds of each other and join the same next batch (see <see cref="WriterLoop"/>).
    /// </summary>
    private void CompleteBatch(List<PendingAppend> batch, Exception? error)
    {
        var workItems = (batch.Count + CompletionsPerWorkItem - 1) / CompletionsPerWorkItem;
        if (workItems == 0)
        {
            return;
        }
        lock (stateLock)
        {
            deliveriesInProgress += workItems;
        }
        for (var start = 0; start < batch.Count; start += CompletionsPerWorkItem)
        {
            var appends = batch.GetRange(start, Math.Min(CompletionsPerWorkItem, batch.Count - start)).ToArray();
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Wal.Deliver(state.Appends, state.Error), (Wal: this, Appends: appends, Error: error),
                preferLocal: false);
        }
        batch.Clear();
    }

    private void Deliver(PendingAppend[] appends, Exception? error)
    {
        try
        {
            foreach (var pending in appends)
            {
                if (error is null)
                {
                    pending.TrySetResult(pending.Index);
                }
                else
                {
                    pending.TrySetException(error);
                }
            }
        }
        finally
        {
            lock (stateLock)
            {
                deliveriesInProgress--;
                if (queue.Count > 0 || writerSyncRequested)
                {
                    WakeWriterLocked();
                }
            }
        }
    }

    /// <summary>Copies an encoded record into the staging buffer (or writes it straight through when it does not
    /// fit one). Call with ioLock held.</summary>
    private void WriteEncodedLocked(ReadOnlySpan<byte> encoded, long index)
    {
        PrepareForRecordLocked(encoded.Length, index);
        if (encoded.Length <= stagingBuffer.Length)
        {
            encoded.CopyTo(stagingBuffer.AsSpan(stagingCount));
            stagingCount += encoded.Length;
        }
        else
        {
            WriteThroughLocked(encoded);
        }
        segments[^1].LastIndex = index;
    }

    /// <summary>Encodes a record straight into the staging buffer. Call with ioLock held.</summary>
    private void WriteRecordLocked(in WalRecord record)
    {
        var encodedLength = RecordFormat.EncodedLength(record.Payload.Length);
        PrepareForRecordLocked(encodedLength, record.Index);
        if (encodedLength <= stagingBuffer.Length)
        {
            RecordFormat.Encode(stagingBuffer.AsSpan(stagingCount, encodedLength), record.Type, record.Index, record.Payload.Span);
            stagingCount += encodedLength;
        }
        else
        {
            var buffer = ArrayPool<byte>.Shared.Rent(encodedLength);
            try
            {
                RecordFormat.Encode(buffer.AsSpan(0, encodedLength), record.Type, record.Index, record.Payload.Span);
                WriteThroughLocked(buffer.AsSpan(0, encodedLength));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        segments[^1].LastIndex = record.Index;
    }

    /// <summary>
    /// Makes room for a record of <paramref name="encodedLength"/> bytes: starts the first segment, rolls over to a
    /// new segment when the record would overflow the current one, and empties the staging buffer when the record
    /// does not fit behind what is staged. No rollover when the record's index equals the current segment's first
    /// index, because the new file would need the same name (only possible when one index has more records than fit a
    /// segment); the segment then grows past its size.
    /// </summary>
    private void PrepareForRecordLocked(int encodedLength, long index)
    {
        if (segments.Count == 0)
        {
            StartSegmentLocked(index);
        }
        else
        {
            var active = segments[^1];
            var usedBytes = active.LengthBytes + stagingCount;
            if (usedBytes > 0 && usedBytes + encodedLength > options.SegmentSizeBytes && index != active.FirstIndex)
            {
                FinishActiveSegmentLocked();
                StartSegmentLocked(index);
            }
        }
        if (encodedLength > stagingBuffer.Length - stagingCount)
        {
            FlushStagingLocked();
        }
    }

    private void WriteThroughLocked(ReadOnlySpan<byte> encoded)
    {
        FlushStagingLocked();
        var active = segments[^1];
        RandomAccess.Write(activeHandle!, encoded, active.LengthBytes);
        active.LengthBytes += encoded.Length;
        activeDirty = true;
    }

    private void FlushStagingLocked()
    {
        if (stagingCount == 0)
        {
            return;
        }
        var active = segments[^1];
        RandomAccess.Write(activeHandle!, stagingBuffer.AsSpan(0, stagingCount), active.LengthBytes);
        active.LengthBytes += stagingCount;
        stagingCount = 0;
        activeDirty = true;
    }

    /// <summary>Makes the active segment durable and closes it. Its appends are completed by the batch's final
    /// <see cref="SyncLocked"/>, which covers the new segment too.</summary>
    private void FinishActiveSegmentLocked()
    {
        FlushStagingLocked();
        if (activeDirty)
        {
            FsyncActiveLocked();
        }
        activeHandle!.Dispose();
        activeHandle = null;
    }

    /// <summary>
    /// Creates the next segment and makes its directory entry durable before anything is written to it. The previous
    /// segment was fsynced first, so after a crash only the last segment can have a torn tail; recovery relies on
    /// that to call damage in any earlier segment corruption.
    /// </summary>
    private void StartSegmentLocked(long firstIndex)
    {
        var path = Path.Combine(DirectoryPath, Segment.FileName(firstIndex));
        activeHandle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        segments.Add(new Segment(path, firstIndex));
        DirectorySync.Flush(DirectoryPath);
    }

    /// <summary>
    /// Puts the WAL in the failed state after an I/O error and fails every append not yet completed. Call with ioLock
    /// held. The active handle stays open only to be closed by <see cref="Dispose"/>; nothing writes to it again.
    /// </summary>
    private void FailLocked(Exception cause)
    {
        List<PendingAppend> abandoned = [.. unsynced];
        unsynced.Clear();
        stagingCount = 0;
        WalFailedException failed;
        lock (stateLock)
        {
            failure ??= new WalFailedException(
                $"WAL in '{DirectoryPath}' failed and accepts no more writes; reopen it to recover: {cause.Message}", cause);
            failed = failure;
            while (queue.TryDequeue(out var pending))
            {
                abandoned.Add(pending);
            }
            queuedBytes = 0;
        }
        foreach (var pending in abandoned)
        {
            pending.ReturnBuffer();
        }
        CompleteBatch(abandoned, failed);
    }
}
