using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>The Lease service: grant, revoke, checkpoint (replicated requests) and the leader-served keep-alive,
/// time-to-live and listing answers.</summary>
public static partial class EtcdProtoMapping
{
    public static Store.LeaseGrantRequest ToStore(Pb.LeaseGrantRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.LeaseGrantRequest { TtlSeconds = request.TTL, Id = request.ID };
    }

    public static Pb.LeaseGrantRequest ToProto(Store.LeaseGrantRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.LeaseGrantRequest { TTL = request.TtlSeconds, ID = request.Id };
    }

    public static Store.LeaseGrantResponse ToStore(Pb.LeaseGrantResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseGrantResponse { Header = ToStore(response.Header), Id = response.ID, TtlSeconds = response.TTL, Error = response.Error };
    }

    public static Pb.LeaseGrantResponse ToProto(Store.LeaseGrantResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.LeaseGrantResponse { Header = ToProto(response.Header, ids), ID = response.Id, TTL = response.TtlSeconds, Error = response.Error };
    }

    public static Store.LeaseRevokeRequest ToStore(Pb.LeaseRevokeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.LeaseRevokeRequest { Id = request.ID };
    }

    public static Pb.LeaseRevokeRequest ToProto(Store.LeaseRevokeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.LeaseRevokeRequest { ID = request.Id };
    }

    public static Store.LeaseRevokeResponse ToStore(Pb.LeaseRevokeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseRevokeResponse { Header = ToStore(response.Header) };
    }

    public static Pb.LeaseRevokeResponse ToProto(Store.LeaseRevokeResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.LeaseRevokeResponse { Header = ToProto(response.Header, ids) };
    }

    public static Store.LeaseCheckpointRequest ToStore(Pb.LeaseCheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.LeaseCheckpointRequest
        {
            Checkpoints = [.. request.Checkpoints.Select(c => new Store.LeaseCheckpoint(c.ID, c.RemainingTTL))],
        };
    }

    public static Pb.LeaseCheckpointRequest ToProto(Store.LeaseCheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var proto = new Pb.LeaseCheckpointRequest();
        proto.Checkpoints.AddRange(request.Checkpoints.Select(c => new Pb.LeaseCheckpoint { ID = c.Id, RemainingTTL = c.RemainingTtlSeconds }));
        return proto;
    }

    public static Store.LeaseCheckpointResponse ToStore(Pb.LeaseCheckpointResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseCheckpointResponse { Header = ToStore(response.Header) };
    }

    public static Pb.LeaseCheckpointResponse ToProto(Store.LeaseCheckpointResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.LeaseCheckpointResponse { Header = ToProto(response.Header, ids) };
    }

    public static Store.LeaseKeepAliveResponse ToStore(Pb.LeaseKeepAliveResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseKeepAliveResponse { Header = ToStore(response.Header), Id = response.ID, TtlSeconds = response.TTL };
    }

    public static Pb.LeaseKeepAliveResponse ToProto(Store.LeaseKeepAliveResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.LeaseKeepAliveResponse { Header = ToProto(response.Header, ids), ID = response.Id, TTL = response.TtlSeconds };
    }

    public static Store.LeaseTimeToLiveResponse ToStore(Pb.LeaseTimeToLiveResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseTimeToLiveResponse
        {
            Header = ToStore(response.Header),
            Id = response.ID,
            TtlSeconds = response.TTL,
            GrantedTtlSeconds = response.GrantedTTL,
            Keys = [.. response.Keys.Select(Copy)],
        };
    }

    public static Pb.LeaseTimeToLiveResponse ToProto(Store.LeaseTimeToLiveResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.LeaseTimeToLiveResponse
        {
            Header = ToProto(response.Header, ids),
            ID = response.Id,
            TTL = response.TtlSeconds,
            GrantedTTL = response.GrantedTtlSeconds,
        };
        proto.Keys.AddRange(response.Keys.Select(Wrap));
        return proto;
    }

    /// <summary>etcd's LeaseStatus has only the id (field 2 is reserved for a TTL etcd never added), so the listed
    /// leases come back with TTLs of 0.</summary>
    public static Store.LeaseLeasesResponse ToStore(Pb.LeaseLeasesResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.LeaseLeasesResponse
        {
            Header = ToStore(response.Header),
            Leases = [.. response.Leases.Select(l => new Store.LeaseStatus(l.ID, 0, 0))],
        };
    }

    /// <summary>Only the ids reach the wire: etcd's LeaseStatus has no TTL fields.</summary>
    public static Pb.LeaseLeasesResponse ToProto(Store.LeaseLeasesResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.LeaseLeasesResponse { Header = ToProto(response.Header, ids) };
        proto.Leases.AddRange(response.Leases.Select(l => new Pb.LeaseStatus { ID = l.Id }));
        return proto;
    }
}
