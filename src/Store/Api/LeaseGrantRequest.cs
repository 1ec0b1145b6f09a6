namespace CurpStore.Store;

/// <summary>etcd's LeaseGrantRequest. <see cref="Id"/> 0 asks the store to choose an id; it derives it from the log
/// index so that every member (and the leader's speculation) picks the same one.</summary>
public sealed record LeaseGrantRequest : EtcdRequest
{
    /// <summary>Requested time to live (etcd's TTL field); raised to the store's minimum when smaller.</summary>
    public long TtlSeconds { get; init; }

    public long Id { get; init; }
}
