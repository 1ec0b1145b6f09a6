namespace CurpStore.Store;

/// <summary>etcd's LeaseRevokeRequest; also what the leader proposes for an expired lease. Deletes every attached key
/// in one revision.</summary>
public sealed record LeaseRevokeRequest : EtcdRequest
{
    public long Id { get; init; }
}
