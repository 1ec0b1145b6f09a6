namespace CurpStore.Store;

/// <summary>
/// Lease timing for the leader. Expiry is soft state in <see cref="LeaseClock"/> and reaches the replicated state only
/// as commands the leader proposes: <see cref="LeaseRevokeRequest"/> for <see cref="ExpiredLeases"/> and
/// <see cref="LeaseCheckpointRequest"/> for <see cref="DueLeaseCheckpoints"/>. Keep-alive and time-to-live are served by
/// the leader from the same clock, as in etcd. Every method takes the time instead of reading a clock.
/// </summary>
public sealed partial class EtcdStateMachine
{
    private readonly LeaseClock leaseClock = new();

    /// <summary>Call when this member becomes leader: restarts every lease's clock from its checkpointed remaining TTL
    /// (or full TTL), extended by <paramref name="extendMs"/> (etcd uses the election timeout).</summary>
    public void PromoteLeases(long nowMs, long extendMs) =>
        leaseClock.Promote(applied.Leases, nowMs, extendMs, Options.LeaseCheckpointIntervalMs);

    /// <summary>Call when this member stops leading: its clocks are stale once another leader renews leases.</summary>
    public void DemoteLeases() => leaseClock.Clear();

    /// <summary>Applied leases whose time ran out, earliest first; the leader proposes a revoke for each.</summary>
    public IReadOnlyList<long> ExpiredLeases(long nowMs, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        return leaseClock.Expired(applied.Leases, nowMs, maxCount, Options.LeaseCheckpointIntervalMs);
    }

    /// <summary>Remaining-TTL checkpoints the leader should propose now (at most <paramref name="maxCount"/>).</summary>
    public IReadOnlyList<LeaseCheckpoint> DueLeaseCheckpoints(long nowMs, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        return leaseClock.DueCheckpoints(applied.Leases, nowMs, maxCount, Options.LeaseCheckpointIntervalMs);
    }

    /// <summary>A keep-alive: restarts the lease's full TTL. TTL 0 when the lease is unknown or already expired.</summary>
    public LeaseKeepAliveResponse RenewLease(long id, long nowMs)
    {
        var ttl = applied.FindLease(id) is { } lease ? leaseClock.Renew(lease, nowMs, Options.LeaseCheckpointIntervalMs) : 0;
        return new LeaseKeepAliveResponse { Header = new ResponseHeader(applied.Revision), Id = id, TtlSeconds = ttl };
    }

    /// <summary>etcd's LeaseTimeToLive: remaining seconds (truncated, as etcd does), granted TTL and optionally the
    /// attached keys in key order; TTL -1 for an unknown lease.</summary>
    public LeaseTimeToLiveResponse LeaseTimeToLive(long id, bool includeKeys, long nowMs)
    {
        var header = new ResponseHeader(applied.Revision);
        if (applied.FindLease(id) is not { } lease)
        {
            return new LeaseTimeToLiveResponse { Header = header, Id = id, TtlSeconds = -1 };
        }
        var remainingMs = leaseClock.ExpiryMs(lease, nowMs, Options.LeaseCheckpointIntervalMs) - nowMs;
        return new LeaseTimeToLiveResponse
        {
            Header = header,
            Id = id,
            TtlSeconds = remainingMs / 1000,
            GrantedTtlSeconds = lease.TtlSeconds,
            Keys = includeKeys ? applied.AttachedKeys(id) : [],
        };
    }

    /// <summary>Every applied lease, by id, with its remaining and granted TTL.</summary>
    public LeaseLeasesResponse Leases(long nowMs) => new()
    {
        Header = new ResponseHeader(applied.Revision),
        Leases = [.. applied.Leases.Select(lease => new LeaseStatus(
            lease.Id,
            (leaseClock.ExpiryMs(lease, nowMs, Options.LeaseCheckpointIntervalMs) - nowMs) / 1000,
            lease.TtlSeconds))],
    };
}
