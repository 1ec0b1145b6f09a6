namespace CurpStore.Store;

/// <summary>etcd's LeaseKeepAliveResponse: the lease's granted TTL after a renewal, or 0 when the lease is unknown or
/// already expired (what etcd's keep-alive stream sends).</summary>
public sealed record LeaseKeepAliveResponse : EtcdResponse
{
    public long Id { get; init; }

    public long TtlSeconds { get; init; }
}
