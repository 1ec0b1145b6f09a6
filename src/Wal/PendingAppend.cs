using System.Buffers;
using System.Threading.Tasks.Sources;

namespace CurpStore.Wal;

/// <summary>
/// One queued <see cref="WriteAheadLog.AppendAsync(WalRecord, CancellationToken)"/>: the record, already encoded by
/// the appender's thread (so CRC work is spread over the appenders, not serialised on the writer), and the completion
/// the appender awaits. It is its own <see cref="IValueTaskSource{TResult}"/>, so an append allocates this object and
/// a pooled buffer and nothing else.
/// </summary>
/// <remarks>
/// Completion happens once: by the WAL (durable, or the WAL failed) or by the appender's cancellation token,
/// whichever comes first; the loser's attempt is ignored. Continuations run synchronously on the completing thread,
/// which is never the writer: <see cref="WriteAheadLog"/> completes each batch from one thread-pool work item (see
/// <see cref="WriteAheadLog.CompleteBatch"/>), and a cancelled append completes on the thread that cancelled.
/// </remarks>
internal sealed class PendingAppend : IValueTaskSource<long>
{
    private ManualResetValueTaskSourceCore<long> completion = new() { RunContinuationsAsynchronously = false };
    private int completed;
    private CancellationTokenRegistration cancellationRegistration;

    public PendingAppend(byte[] encodedBuffer, int encodedLength, long index)
    {
        EncodedBuffer = encodedBuffer;
        EncodedLength = encodedLength;
        Index = index;
    }

    /// <summary>Rented from <see cref="ArrayPool{T}.Shared"/>; null once written and returned.</summary>
    public byte[]? EncodedBuffer { get; private set; }

    public int EncodedLength { get; }

    public long Index { get; }

    public short Version => completion.Version;

    public ReadOnlySpan<byte> Encoded => EncodedBuffer.AsSpan(0, EncodedLength);

    /// <summary>Called before the append becomes visible to the writer, so the registration is in place before
    /// anyone can observe completion.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            cancellationRegistration = cancellationToken.UnsafeRegister(
                static (state, token) => ((PendingAppend)state!).TrySetException(
                    new OperationCanceledException("Stopped waiting for the WAL append; the record may still become durable.", token)),
                this);
        }
    }

    public void ReturnBuffer()
    {
        if (EncodedBuffer is { } buffer)
        {
            EncodedBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void TrySetResult(long index)
    {
        if (Interlocked.Exchange(ref completed, 1) == 0)
        {
            completion.SetResult(index);
        }
    }

    public void TrySetException(Exception exception)
    {
        if (Interlocked.Exchange(ref completed, 1) == 0)
        {
            completion.SetException(exception);
        }
    }

    public long GetResult(short token)
    {
        // Unregister rather than Dispose: Dispose would wait for a running callback, and nothing here needs that.
        cancellationRegistration.Unregister();
        return completion.GetResult(token);
    }

    public ValueTaskSourceStatus GetStatus(short token) => completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        completion.OnCompleted(continuation, state, token, flags);
}
