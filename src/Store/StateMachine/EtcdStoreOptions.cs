namespace CurpStore.Store;

/// <summary>The etcd state machine's limits. Every member of a cluster must use the same values: they decide answers
/// to replicated commands.</summary>
public sealed record EtcdStoreOptions
{
    /// <summary>etcd's --max-txn-ops (default 128).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>Smallest TTL a lease gets. etcd derives it from the election timeout (1.5 election timeouts, rounded up
    /// to whole seconds: 2 with the default 1 s), so a lease survives a leader change; see
    /// <see cref="MinLeaseTtlSecondsFor"/>.</summary>
    public long MinLeaseTtlSeconds { get; init; } = 2;

    /// <summary>etcd's MaxLeaseTTL: larger requests fail with "too large lease TTL".</summary>
    public long MaxLeaseTtlSeconds { get; init; } = 9_000_000_000;

    /// <summary>How often the leader checkpoints a long lease's remaining TTL (etcd's default 5 minutes); 0 disables
    /// checkpoints.</summary>
    public long LeaseCheckpointIntervalMs { get; init; } = 300_000;

    /// <summary>Bound on speculated entries not applied yet; the core's uncommitted window stays far below it, so
    /// exceeding it is a bug and fails loudly.</summary>
    public int MaxSpeculatedEntries { get; init; } = 65_536;

    /// <summary>Keep every speculated answer and compare it with the applied one (counted in
    /// <see cref="EtcdStateMachine.SpeculationMismatches"/>). For the simulator and tests: it renders both answers.</summary>
    public bool VerifySpeculation { get; init; }

    /// <summary>etcd's minimum lease TTL for an election timeout: ceil(1.5 x timeout) in seconds.</summary>
    public static long MinLeaseTtlSecondsFor(long electionTimeoutMs) => ((3 * electionTimeoutMs / 2) + 999) / 1000;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTxnOps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinLeaseTtlSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLeaseTtlSeconds, MinLeaseTtlSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(LeaseCheckpointIntervalMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSpeculatedEntries, 1);
    }
}
