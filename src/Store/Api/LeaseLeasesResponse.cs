namespace CurpStore.Store;

/// <summary>One lease in a listing. etcd's LeaseStatus carries only the id; the TTLs are extra, for the leader's
/// own use and for tools.</summary>
public sealed record LeaseStatus(long Id, long TtlSeconds, long GrantedTtlSeconds);

/// <summary>etcd's LeaseLeasesResponse, ordered by id.</summary>
public sealed record LeaseLeasesResponse : EtcdResponse
{
    public IReadOnlyList<LeaseStatus> Leases { get; init; } = [];
}
