namespace CurpStore.Store;

/// <summary>etcd's LeaseTimeToLiveResponse. An unknown lease answers <see cref="TtlSeconds"/> = -1 (etcd's server
/// turns "not found" into that, without an error). Keys come sorted.</summary>
public sealed record LeaseTimeToLiveResponse : EtcdResponse
{
    public long Id { get; init; }

    public long TtlSeconds { get; init; }

    public long GrantedTtlSeconds { get; init; }

    public IReadOnlyList<byte[]> Keys { get; init; } = [];
}
