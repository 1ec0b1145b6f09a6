namespace CurpStore.Curp;

/// <summary>How one member behaves. Times are in ticks of the host's clock (the server ticks every heartbeat
/// interval / heartbeat ticks; the simulator ticks in virtual time).</summary>
public sealed record NodeConfig
{
    public required ulong NodeId { get; init; }

    /// <summary>Seed of this member's own random source (randomized election timeouts). The host picks it.</summary>
    public required ulong RandomSeed { get; init; }

    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>A follower waits between this and twice this without hearing a leader before it campaigns.</summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum for an election timeout steps down (and so stops
    /// answering speculatively).</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Off: every command is ordered by the leader and completes at commit (Raft, the etcd baseline).</summary>
    public bool FastPath { get; init; } = true;

    /// <summary>The leader answers speculatively only while a quorum has acknowledged it within this many ticks (0: half
    /// an election timeout). A leader cut off from its followers would otherwise keep answering fast until deposed, and
    /// every such answer is re-sequenced by the next leader's recovery.</summary>
    public int FastPathLeaseTicks { get; init; }

    public int MaxEntriesPerAppend { get; init; } = 256;

    /// <summary>Append messages in flight to one follower before the leader waits for acknowledgements.</summary>
    public int MaxInflightAppends { get; init; } = 64;

    /// <summary>Uncommitted entries the leader holds before it refuses proposals with TooManyRequests.</summary>
    public int MaxUncommittedEntries { get; init; } = 10_000;

    public int MaxPoolSize { get; init; } = 10_000;

    public int MaxPendingReads { get; init; } = 10_000;

    public int MaxResultsPerSession { get; init; } = 4_096;

    /// <summary>A pool entry older than this is handed to the leader to be ordered (its proposer may be gone).</summary>
    public int PoolStaleTicks { get; init; } = 30;

    /// <summary>A client session with no proposal for this long is expired by the leader.</summary>
    public int SessionIdleTicks { get; init; } = 3_000;

    /// <summary>Entries kept in the log behind a snapshot, so that a briefly lagging follower needs no snapshot.</summary>
    public int RetainEntriesAfterSnapshot { get; init; } = 1_000;
}
