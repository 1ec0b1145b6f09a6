using System.Buffers;

namespace CurpStore.Wal;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Queues <paramref name="record"/> for the writer and completes, with the record's index, once it is durable
    /// (written and fsynced together with whatever else was queued at that moment).
    /// </summary>
    /// <remarks>
    /// <para>The payload is copied before this method returns, so the caller may reuse its buffer at once.</para>
    /// <para>Fails without queuing (the returned task is already faulted) with <see cref="WalFullException"/> when the
    /// queue is at its bound, <see cref="ArgumentOutOfRangeException"/> when the index is below <see cref="LastIndex"/>,
    /// <see cref="ObjectDisposedException"/> after <see cref="Dispose"/> started, and <see cref="WalFailedException"/>
    /// after an I/O failure (also for appends already queued when it happened).</para>
    /// <para>Cancelling <paramref name="cancellationToken"/> before the call queues nothing. Cancelling later only
    /// stops the wait (the task faults with <see cref="OperationCanceledException"/>): a record that has reached the
    /// queue cannot be taken back, so it may still become durable, and the caller must treat it as "unknown".</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The payload exceeds <see cref="WalOptions.MaxRecordPayloadBytes"/>.</exception>
    public ValueTask<long> AppendAsync(WalRecord record, CancellationToken cancellationToken = default)
    {
        CheckPayloadLength(record.Payload.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(cancellationToken);
        }
        var encodedLength = RecordFormat.EncodedLength(record.Payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(encodedLength);
        // Encode (and checksum) outside the lock: the index is the caller's, so nothing here depends on queue order.
        RecordFormat.Encode(buffer.AsSpan(0, encodedLength), record.Type, record.Index, record.Payload.Span);
        Exception? refusal;
        lock (stateLock)
        {
            refusal = RefusalLocked(record.Index, encodedLength);
            if (refusal is null)
            {
                return EnqueueLocked(new PendingAppend(buffer, encodedLength, record.Index), cancellationToken);
            }
        }
        ArrayPool<byte>.Shared.Return(buffer);
        return ValueTask.FromException<long>(refusal);
    }

    /// <summary>
    /// Like <see cref="AppendAsync(WalRecord, CancellationToken)"/>, but the WAL chooses the index:
    /// <see cref="LastIndex"/> + 1, or 1 on an empty log (Raft numbers entries from 1). Choosing under the queue's lock
    /// is what lets many independent appenders write in index order; the returned value is the chosen index.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The payload exceeds <see cref="WalOptions.MaxRecordPayloadBytes"/>.</exception>
    public ValueTask<long> AppendAsync(byte type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        CheckPayloadLength(payload.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(cancellationToken);
        }
        var encodedLength = RecordFormat.EncodedLength(payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(encodedLength);
        Exception? refusal;
        lock (stateLock)
        {
            var index = lastAcceptedIndex < 0 ? 1 : lastAcceptedIndex + 1;
            refusal = RefusalLocked(index, encodedLength);
            if (refusal is null)
            {
                // The CRC covers the index, so this record can only be encoded once its index is fixed.
                RecordFormat.Encode(buffer.AsSpan(0, encodedLength), type, index, payload.Span);
                return EnqueueLocked(new PendingAppend(buffer, encodedLength, index), cancellationToken);
            }
        }
        ArrayPool<byte>.Shared.Return(buffer);
        return ValueTask.FromException<long>(refusal);
    }

    /// <summary>
    /// Writes <paramref name="records"/> to the current segment (through the staging buffer) and returns without
    /// waiting for the disk; call <see cref="Sync"/> to make them durable. This is the host's path: it persists a Raft
    /// <c>Ready</c> with one fsync and no thread hop. Records queued by <see cref="AppendAsync(WalRecord, CancellationToken)"/>
    /// before this call are written first, so the file keeps acceptance order.
    /// </summary>
    /// <exception cref="ArgumentException">A payload is too large, or the indexes decrease (within the batch or
    /// against <see cref="LastIndex"/>). Nothing is written then.</exception>
    /// <exception cref="WalFailedException">An I/O error; the WAL accepts nothing more.</exception>
    public void AppendBatch(IReadOnlyList<WalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }
        for (var i = 0; i < records.Count; i++)
        {
            CheckPayloadLength(records[i].Payload.Length);
            if (i > 0 && records[i].Index < records[i - 1].Index)
            {
                throw new ArgumentException(
                    $"indexes must not decrease: record {i} has index {records[i].Index} after {records[i - 1].Index}", nameof(records));
            }
        }
        lock (ioLock)
        {
            ThrowIfUnusableLocked();
            lock (stateLock)
            {
                if (records[0].Index < lastAcceptedIndex)
                {
                    throw new ArgumentOutOfRangeException(nameof(records), records[0].Index, IndexBelowLastMessage(records[0].Index));
                }
                // Take what AppendAsync queued before this call inside the same critical section that accepts the
                // batch: a record queued after it has a higher index and must reach the file after the batch.
                if (queue.Count > 0)
                {
                    DrainQueueLocked();
                    RequestWriterSyncLocked();
                }
                lastAcceptedIndex = records[^1].Index;
            }
            RunIoLocked(() =>
            {
                WriteDrainedLocked();
                foreach (var record in records)
                {
                    WriteRecordLocked(record);
                }
            });
        }
    }

    /// <summary>
    /// Makes everything appended before this call durable: writes what is queued or staged and fsyncs the current
    /// segment. Completes the waiting appends it covers.
    /// </summary>
    /// <exception cref="WalFailedException">An I/O error; the WAL accepts nothing more.</exception>
    public void Sync()
    {
        lock (ioLock)
        {
            ThrowIfUnusableLocked();
            RunIoLocked(() =>
            {
                WriteQueuedLocked();
                SyncLocked();
            });
        }
    }

    private void CheckPayloadLength(int payloadLength) =>
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, options.MaxRecordPayloadBytes, "payload length in bytes");

    private string IndexBelowLastMessage(long index) =>
        $"index {index} is below the last accepted index {lastAcceptedIndex}; indexes must not decrease (truncate the suffix first)";

    /// <summary>Why a record cannot be queued now, or null. Call with stateLock held.</summary>
    private Exception? RefusalLocked(long index, int encodedLength)
    {
        if (closing)
        {
            return new ObjectDisposedException(nameof(WriteAheadLog), "the WAL is disposed; the record was not written");
        }
        if (failure is not null)
        {
            return new WalFailedException(failure.Message, failure.InnerException!);
        }
        if (index < lastAcceptedIndex)
        {
            return new ArgumentOutOfRangeException("record", index, IndexBelowLastMessage(index));
        }
        if (queue.Count >= options.MaxQueuedRecords || queuedBytes + encodedLength > options.MaxQueuedBytes)
        {
            return new WalFullException(queue.Count, queuedBytes, options.MaxQueuedRecords, options.MaxQueuedBytes);
        }
        return null;
    }

    /// <summary>Call with stateLock held, after <see cref="RefusalLocked"/> returned null.</summary>
    private ValueTask<long> EnqueueLocked(PendingAppend pending, CancellationToken cancellationToken)
    {
        pending.RegisterCancellation(cancellationToken);
        queue.Enqueue(pending);
        queuedBytes += pending.EncodedLength;
        lastAcceptedIndex = pending.Index;
        // Signals only a sleeping writer: under load it finds the queue non-empty without any signal.
        WakeWriterLocked();
        return new ValueTask<long>(pending, pending.Version);
    }
}
