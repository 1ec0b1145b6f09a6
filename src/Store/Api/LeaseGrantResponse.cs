namespace CurpStore.Store;

/// <summary>etcd's LeaseGrantResponse: the chosen id and the granted TTL (after the minimum was applied).</summary>
public sealed record LeaseGrantResponse : EtcdResponse
{
    public long Id { get; init; }

    public long TtlSeconds { get; init; }

    public string Error { get; init; } = "";
}
