using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>The KV service's single requests: Range, Put, DeleteRange, Compact.</summary>
public static partial class EtcdProtoMapping
{
    /// <summary>Sort order and target numbers pass through even when etcd defines no such value; the store rejects
    /// them with "etcdserver: invalid sort option" exactly where etcd's checkRangeRequest does.</summary>
    public static Store.RangeRequest ToStore(Pb.RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.RangeRequest
        {
            Key = Copy(request.Key),
            RangeEnd = Copy(request.RangeEnd),
            Limit = request.Limit,
            Revision = request.Revision,
            SortOrder = (Store.SortOrder)(int)request.SortOrder,
            SortTarget = (Store.SortTarget)(int)request.SortTarget,
            Serializable = request.Serializable,
            KeysOnly = request.KeysOnly,
            CountOnly = request.CountOnly,
            MinModRevision = request.MinModRevision,
            MaxModRevision = request.MaxModRevision,
            MinCreateRevision = request.MinCreateRevision,
            MaxCreateRevision = request.MaxCreateRevision,
        };
    }

    public static Pb.RangeRequest ToProto(Store.RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.RangeRequest
        {
            Key = Wrap(request.Key),
            RangeEnd = Wrap(request.RangeEnd),
            Limit = request.Limit,
            Revision = request.Revision,
            SortOrder = (Pb.RangeRequest.Types.SortOrder)(int)request.SortOrder,
            SortTarget = (Pb.RangeRequest.Types.SortTarget)(int)request.SortTarget,
            Serializable = request.Serializable,
            KeysOnly = request.KeysOnly,
            CountOnly = request.CountOnly,
            MinModRevision = request.MinModRevision,
            MaxModRevision = request.MaxModRevision,
            MinCreateRevision = request.MinCreateRevision,
            MaxCreateRevision = request.MaxCreateRevision,
        };
    }

    public static Store.RangeResponse ToStore(Pb.RangeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.RangeResponse
        {
            Header = ToStore(response.Header),
            Kvs = ToStore(response.Kvs),
            More = response.More,
            Count = response.Count,
        };
    }

    public static Pb.RangeResponse ToProto(Store.RangeResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.RangeResponse { Header = ToProto(response.Header, ids), More = response.More, Count = response.Count };
        proto.Kvs.AddRange(ToProto(response.Kvs));
        return proto;
    }

    public static Store.PutRequest ToStore(Pb.PutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.PutRequest
        {
            Key = Copy(request.Key),
            Value = Copy(request.Value),
            Lease = request.Lease,
            PrevKv = request.PrevKv,
            IgnoreValue = request.IgnoreValue,
            IgnoreLease = request.IgnoreLease,
        };
    }

    public static Pb.PutRequest ToProto(Store.PutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.PutRequest
        {
            Key = Wrap(request.Key),
            Value = Wrap(request.Value),
            Lease = request.Lease,
            PrevKv = request.PrevKv,
            IgnoreValue = request.IgnoreValue,
            IgnoreLease = request.IgnoreLease,
        };
    }

    public static Store.PutResponse ToStore(Pb.PutResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.PutResponse
        {
            Header = ToStore(response.Header),
            PrevKv = response.PrevKv is null ? null : ToStore(response.PrevKv),
        };
    }

    public static Pb.PutResponse ToProto(Store.PutResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.PutResponse
        {
            Header = ToProto(response.Header, ids),
            PrevKv = response.PrevKv is null ? null : ToProto(response.PrevKv),
        };
    }

    public static Store.DeleteRangeRequest ToStore(Pb.DeleteRangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.DeleteRangeRequest { Key = Copy(request.Key), RangeEnd = Copy(request.RangeEnd), PrevKv = request.PrevKv };
    }

    public static Pb.DeleteRangeRequest ToProto(Store.DeleteRangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.DeleteRangeRequest { Key = Wrap(request.Key), RangeEnd = Wrap(request.RangeEnd), PrevKv = request.PrevKv };
    }

    public static Store.DeleteRangeResponse ToStore(Pb.DeleteRangeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.DeleteRangeResponse
        {
            Header = ToStore(response.Header),
            Deleted = response.Deleted,
            PrevKvs = ToStore(response.PrevKvs),
        };
    }

    public static Pb.DeleteRangeResponse ToProto(Store.DeleteRangeResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.DeleteRangeResponse { Header = ToProto(response.Header, ids), Deleted = response.Deleted };
        proto.PrevKvs.AddRange(ToProto(response.PrevKvs));
        return proto;
    }

    public static Store.CompactionRequest ToStore(Pb.CompactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.CompactionRequest { Revision = request.Revision, Physical = request.Physical };
    }

    public static Pb.CompactionRequest ToProto(Store.CompactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.CompactionRequest { Revision = request.Revision, Physical = request.Physical };
    }

    public static Store.CompactionResponse ToStore(Pb.CompactionResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.CompactionResponse { Header = ToStore(response.Header) };
    }

    public static Pb.CompactionResponse ToProto(Store.CompactionResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.CompactionResponse { Header = ToProto(response.Header, ids) };
    }
}
