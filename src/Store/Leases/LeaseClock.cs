namespace CurpStore.Store;

/// <summary>
/// The leader's private lease timing (etcd's lessor expiry and checkpoint schedule). Not replicated and never part of
/// an answer to a command: expiry is a leader decision that reaches the log as a <see cref="LeaseRevokeRequest"/>.
/// Time is passed in (milliseconds on any monotonic clock). A lease's clock starts the first time the leader looks at it
/// after it was granted or after a promotion, from its checkpointed remaining TTL if it has one, else its full TTL.
/// </summary>
internal sealed class LeaseClock
{
    private readonly Dictionary<long, Timer> timers = [];

    public void Clear() => timers.Clear();

    /// <summary>A new leader restarts every lease's clock, extended by <paramref name="extendMs"/> (etcd extends by
    /// the election timeout so that clients have time to find the new leader).</summary>
    public void Promote(IEnumerable<LeaseInfo> leases, long nowMs, long extendMs, long checkpointIntervalMs)
    {
        timers.Clear();
        foreach (var lease in leases)
        {
            Start(lease, nowMs, extendMs, checkpointIntervalMs);
        }
    }

    public long ExpiryMs(LeaseInfo lease, long nowMs, long checkpointIntervalMs) => Observe(lease, nowMs, checkpointIntervalMs).ExpiryMs;

    /// <summary>Leases whose expiry has passed, earliest first (ties by id), at most <paramref name="maxCount"/>.</summary>
    public IReadOnlyList<long> Expired(IEnumerable<LeaseInfo> leases, long nowMs, int maxCount, long checkpointIntervalMs)
    {
        var live = new HashSet<long>();
        var expired = new List<(long ExpiryMs, long Id)>();
        foreach (var lease in leases)
        {
            live.Add(lease.Id);
            var timer = Observe(lease, nowMs, checkpointIntervalMs);
            if (timer.ExpiryMs <= nowMs)
            {
                expired.Add((timer.ExpiryMs, lease.Id));
            }
        }
        Forget(live);
        expired.Sort();
        return [.. expired.Take(maxCount).Select(e => e.Id)];
    }

    /// <summary>etcd's Renew: a lease that already expired is not renewed (it is about to be revoked) and answers 0;
    /// otherwise the full TTL starts again, and a checkpointed remaining TTL must be cleared in the log.</summary>
    public long Renew(LeaseInfo lease, long nowMs, long checkpointIntervalMs)
    {
        var timer = Observe(lease, nowMs, checkpointIntervalMs);
        if (timer.ExpiryMs <= nowMs)
        {
            return 0;
        }
        timer.ExpiryMs = nowMs + (lease.TtlSeconds * 1000);
        timer.ClearCheckpoint = lease.RemainingTtlSeconds > 0;
        Schedule(timer, lease.TtlSeconds, nowMs, checkpointIntervalMs);
        return lease.TtlSeconds;
    }

    /// <summary>Checkpoints the leader should propose now: leases whose checkpoint time came (remaining TTL rounded
    /// up, as etcd does) and renewed leases whose recorded remaining TTL must be cleared (0).</summary>
    public IReadOnlyList<LeaseCheckpoint> DueCheckpoints(IEnumerable<LeaseInfo> leases, long nowMs, int maxCount, long checkpointIntervalMs)
    {
        var due = new List<LeaseCheckpoint>();
        foreach (var lease in leases)
        {
            if (due.Count >= maxCount)
            {
                break;
            }
            var timer = Observe(lease, nowMs, checkpointIntervalMs);
            if (timer.ClearCheckpoint)
            {
                timer.ClearCheckpoint = false;
                due.Add(new LeaseCheckpoint(lease.Id, 0));
            }
            else if (timer.NextCheckpointMs <= nowMs && timer.ExpiryMs > nowMs)
            {
                var remainingSeconds = (timer.ExpiryMs - nowMs + 999) / 1000;
                due.Add(new LeaseCheckpoint(lease.Id, remainingSeconds));
                Schedule(timer, remainingSeconds, nowMs, checkpointIntervalMs);
            }
        }
        return due;
    }

    private Timer Observe(LeaseInfo lease, long nowMs, long checkpointIntervalMs) =>
        timers.TryGetValue(lease.Id, out var timer) ? timer : Start(lease, nowMs, 0, checkpointIntervalMs);

    private Timer Start(LeaseInfo lease, long nowMs, long extendMs, long checkpointIntervalMs)
    {
        var seconds = lease.RemainingTtlSeconds > 0 ? lease.RemainingTtlSeconds : lease.TtlSeconds;
        var timer = new Timer { ExpiryMs = nowMs + extendMs + (seconds * 1000) };
        Schedule(timer, seconds, nowMs, checkpointIntervalMs);
        timers[lease.Id] = timer;
        return timer;
    }

    /// <summary>etcd's scheduleCheckpointIfNeeded: only leases that outlive one interval get checkpoints.</summary>
    private static void Schedule(Timer timer, long remainingSeconds, long nowMs, long checkpointIntervalMs) =>
        timer.NextCheckpointMs = checkpointIntervalMs > 0 && remainingSeconds * 1000 > checkpointIntervalMs
            ? nowMs + checkpointIntervalMs
            : long.MaxValue;

    private void Forget(HashSet<long> live)
    {
        foreach (var id in timers.Keys.Where(id => !live.Contains(id)).ToList())
        {
            timers.Remove(id);
        }
    }

    private sealed class Timer
    {
        public long ExpiryMs { get; set; }

        public long NextCheckpointMs { get; set; } = long.MaxValue;

        public bool ClearCheckpoint { get; set; }
    }
}
