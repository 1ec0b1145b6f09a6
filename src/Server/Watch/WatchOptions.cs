namespace CurpStore.Server.Watch;

/// <summary>Bounds and timing of the Watch service. Every buffer is bounded; the defaults follow etcd where etcd has
/// a number.</summary>
public sealed record WatchOptions
{
    /// <summary>etcd's smallest progress notify interval; shorter values are raised to it, as etcd does.</summary>
    public static readonly TimeSpan MinProgressNotifyInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often a watcher created with progress_notify gets an empty response when it saw no event
    /// (etcd's <c>--experimental-watch-progress-notify-interval</c>, 10 minutes by default; up to a tenth more as
    /// jitter, as etcd adds, so watchers created together do not all report at once).</summary>
    public TimeSpan ProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Events the member's shared event buffer holds; older revisions are read from the store's history.</summary>
    public int EventBufferMaxEvents { get; init; } = 16_384;

    /// <summary>Approximate bytes (keys and values) the shared event buffer holds.</summary>
    public long EventBufferMaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Responses queued per stream for the client (etcd's watch channel holds 128). A client that does not
    /// read fills it; its watchers then stop moving until it reads, and catch up from history afterwards.</summary>
    public int SendQueueCapacity { get; init; } = 128;

    /// <summary>Store records read per history chunk by a watcher that catches up (on the host's loop thread, so
    /// bounded; a revision is never split, so one chunk may exceed it by the rest of a revision).</summary>
    public int HistoryChunkEvents { get; init; } = 1_000;

    /// <summary>Buffered revisions a watcher takes per pass before the stream's other watchers get their turn.</summary>
    public int MaxRevisionsPerPass { get; init; } = 256;

    /// <summary>Watchers per stream; a create request beyond it is refused (created and canceled, with etcd's
    /// "too many requests" as the reason).</summary>
    public int MaxWatchersPerStream { get; init; } = 10_000;

    /// <summary>A fragmenting watcher's responses are split at this size: etcd's max request bytes (1.5 MiB) plus its
    /// gRPC overhead allowance (512 KiB).</summary>
    public int FragmentBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Pause before a history read is retried when the host's inbox was full.</summary>
    public TimeSpan HistoryRetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ProgressNotifyInterval, MinProgressNotifyInterval);
        ArgumentOutOfRangeException.ThrowIfLessThan(EventBufferMaxEvents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(EventBufferMaxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SendQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(HistoryChunkEvents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRevisionsPerPass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWatchersPerStream, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(FragmentBytes, 1);
    }
}
