using CurpStore.Curp;

namespace CurpStore.Client;

/// <summary>How a <see cref="CurpClient"/> behaves. Every queue has a bound; exceeding one fails the call with
/// ResourceExhausted instead of waiting without limit.</summary>
public sealed record CurpClientOptions
{
    /// <summary>Timeout of a call that passes none (null: calls wait until answered, cancelled or given up on after
    /// <see cref="MaxAttempts"/> retries, like clientv3 without a context deadline).</summary>
    public TimeSpan? DefaultTimeout { get; init; }

    /// <summary>How long <see cref="CurpClient.ConnectAsync(IEnumerable{string}, CurpClientOptions?, CancellationToken)"/>
    /// tries to reach a majority of the members.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>One tick of the proposer's clock (retries are counted in ticks).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A command not decided after this long is sent again, with the same id (exactly once).</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Sends of one command before its outcome is reported unknown ("etcdserver: request timed out").</summary>
    public int MaxAttempts { get; init; } = 40;

    /// <summary>Calls in flight at once (reads and writes); one more fails at once with ResourceExhausted.</summary>
    public int MaxInflight { get; init; } = 1_024;

    /// <summary>Messages queued for one member's stream; more are dropped (the proposer retries what is lost).</summary>
    public int StreamQueueCapacity { get; init; } = 16_384;

    /// <summary>Messages from the members queued for the proposer's loop; more are dropped (the members re-send).</summary>
    public int InboxCapacity { get; init; } = 65_536;

    /// <summary>The longest wait between two attempts to reconnect a member's stream.</summary>
    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>After this long without a write the client opens a new session before its next write: a member
    /// expires an idle session (after 3000 ticks, 5 minutes at etcd's default heartbeat), and a write on an expired
    /// session could only be answered "request timed out".</summary>
    public TimeSpan SessionRefreshAfterIdle { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Strict revisions: a write completes only once its log position is final (commit notice or slow), so
    /// the revision it reports is its final mod_revision; reads wait for every accepted write.</summary>
    public bool StrictRevisions { get; init; }

    /// <summary>TLS of <c>https://</c> endpoints (the CA to trust, a client certificate), for example from
    /// <see cref="Rpc.ClientTls.FromPemFiles"/>; null: the system's roots, no client certificate.</summary>
    public System.Net.Security.SslClientAuthenticationOptions? SslOptions { get; init; }

    /// <summary>Tests only: a message from a member for which this returns true is dropped before the proposer sees
    /// it (a lost answer).</summary>
    internal Func<Message, bool>? DropIncoming { get; init; }

    internal int TicksOf(TimeSpan interval) => (int)Math.Max(1, Math.Ceiling(interval / TickInterval));

    internal void Validate()
    {
        if (TickInterval <= TimeSpan.Zero || RetryInterval <= TimeSpan.Zero || DialTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("TickInterval, RetryInterval and DialTimeout must be positive");
        }
        if (MaxAttempts < 1 || MaxInflight < 1 || StreamQueueCapacity < 1 || InboxCapacity < 1)
        {
            throw new ArgumentException("MaxAttempts, MaxInflight, StreamQueueCapacity and InboxCapacity must be at least 1");
        }
    }
}
