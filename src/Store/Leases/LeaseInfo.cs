namespace CurpStore.Store;

/// <summary>A lease as replicated state: its id, granted TTL and the remaining TTL last checkpointed by a leader
/// (0 = none). Expiry times are not replicated: they belong to the leader's <see cref="LeaseClock"/>.</summary>
internal sealed record LeaseInfo(long Id, long TtlSeconds, long RemainingTtlSeconds);
