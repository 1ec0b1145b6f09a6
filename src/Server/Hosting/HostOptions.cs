using CurpStore.Curp;

namespace CurpStore.Server.Hosting;

/// <summary>How a member host runs its core. Defaults follow etcd's: 100 ms heartbeat, 1000 ms election timeout.</summary>
public sealed record HostOptions
{
    public required NodeConfig Node { get; init; }

    /// <summary>Wall-clock length of one core tick.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Inputs (messages, proposals, reads) the inbox holds before new ones are refused with
    /// <see cref="ProposeError.TooManyRequests"/>.</summary>
    public int InboxCapacity { get; init; } = 65_536;

    /// <summary>Client requests (writes and linearizable reads) the host holds at once, from the moment they are offered
    /// until they are answered; one more is refused at once with <see cref="ProposeError.TooManyRequests"/>. This bounds
    /// both the memory requests take and the time an admitted one waits behind the others (the same cut as the
    /// proposer's own in-flight bound, so nothing admitted is refused later for load).</summary>
    public int MaxPendingRequests { get; init; } = 1_024;

    /// <summary>Inputs the loop steps before it persists and sends once (the batch size of group persistence).</summary>
    public int MaxInputsPerBatch { get; init; } = 1_024;

    /// <summary>The id this host uses when it proposes on behalf of its own clients. It must not collide with any
    /// member id or any other host's proposer id.</summary>
    public required ulong ProposerId { get; init; }

    /// <summary>Ticks without completion before the host's proposer re-sends a command.</summary>
    public int ProposerRetryTicks { get; init; } = 10;

    public bool StrictRevisions { get; init; }

    /// <summary>Off: the host's proposer completes a write only on the leader's answer after apply (a plain Raft
    /// client); set together with <see cref="NodeConfig.FastPath"/> for the Raft baseline.</summary>
    public bool FastPath { get; init; } = true;

    /// <summary>Applied entries between two snapshots (log compaction).</summary>
    public ulong SnapshotEveryEntries { get; init; } = 10_000;
}
