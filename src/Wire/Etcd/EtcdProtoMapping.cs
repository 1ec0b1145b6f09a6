using Google.Protobuf;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>The parts of etcd's ResponseHeader that the state machine does not own: which cluster and member answered
/// and in which raft term. <see cref="None"/> (all zero) is what etcd leaves in the headers of a txn's inner
/// responses, since its gRPC layer fills only the outer header.</summary>
public readonly record struct EtcdHeaderIds(ulong ClusterId, ulong MemberId, ulong RaftTerm)
{
    public static readonly EtcdHeaderIds None = default;
}

/// <summary>
/// Exact conversions between etcd's protobuf messages (<c>etcdserverpb</c>, <c>mvccpb</c>) and the state machine's
/// request and response records. <c>ToStore</c> goes from the wire to the store, <c>ToProto</c> back.
/// </summary>
/// <remarks>
/// <para>Lossless both ways, with two exceptions that etcd's messages force: a <see cref="Store.Compare"/> keeps only
/// the operand its target reads (etcd's <c>target_union</c> is a oneof; see the Txn part), and etcd's LeaseStatus
/// carries only the id, so <see cref="Store.LeaseStatus"/> TTLs do not reach the wire.</para>
/// <para>Enum numbers pass through unchanged, known or not, so that a request is judged exactly as etcd judges it and
/// in etcd's order: an undefined sort order or target is rejected by <see cref="Store.RequestValidator"/> (which the
/// state machine runs again on every command) with <see cref="Store.EtcdError.InvalidSortOption"/>, "etcdserver:
/// invalid sort option", as etcd's checkRangeRequest does, after an empty key was reported first. etcd 3.5 does not
/// reject undefined compare results or targets (compareKV compares an unknown target as equal and lets an unknown
/// result pass), and neither does the store, so they are carried as they are.</para>
/// <para>Store byte arrays are immutable by contract, so <c>ToProto</c> wraps them without copying; <c>ToStore</c>
/// copies out of the message, which may share a receive buffer.</para>
/// </remarks>
public static partial class EtcdProtoMapping
{
    /// <summary>etcd's full response header: the store's revision plus the answering member's ids and term.</summary>
    public static Pb.ResponseHeader ToProto(Store.ResponseHeader header, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(header);
        return new Pb.ResponseHeader
        {
            ClusterId = ids.ClusterId,
            MemberId = ids.MemberId,
            Revision = header.Revision,
            RaftTerm = ids.RaftTerm,
        };
    }

    /// <summary>The store's part of a header (its revision); a missing header reads as revision 0.</summary>
    public static Store.ResponseHeader ToStore(Pb.ResponseHeader? header) => new(header?.Revision ?? 0);

    public static Mvcc.KeyValue ToProto(Store.KeyValue kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        return new Mvcc.KeyValue
        {
            Key = Wrap(kv.Key),
            CreateRevision = kv.CreateRevision,
            ModRevision = kv.ModRevision,
            Version = kv.Version,
            Value = Wrap(kv.Value),
            Lease = kv.Lease,
        };
    }

    public static Store.KeyValue ToStore(Mvcc.KeyValue kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        return new Store.KeyValue
        {
            Key = Copy(kv.Key),
            CreateRevision = kv.CreateRevision,
            ModRevision = kv.ModRevision,
            Version = kv.Version,
            Value = Copy(kv.Value),
            Lease = kv.Lease,
        };
    }

    /// <summary>The gRPC status etcd ends a call with for this error: the same code and message (clients match on
    /// both).</summary>
    public static Rpc.RpcException ToRpcException(Store.EtcdError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new Rpc.RpcException((Rpc.GrpcStatusCode)(int)error.Code, error.Message);
    }

    /// <summary>Any request the state machine executes, as its etcd message.</summary>
    public static IMessage ToProto(Store.EtcdRequest request) => request switch
    {
        Store.RangeRequest range => ToProto(range),
        Store.PutRequest put => ToProto(put),
        Store.DeleteRangeRequest delete => ToProto(delete),
        Store.TxnRequest txn => ToProto(txn),
        Store.CompactionRequest compaction => ToProto(compaction),
        Store.LeaseGrantRequest grant => ToProto(grant),
        Store.LeaseRevokeRequest revoke => ToProto(revoke),
        Store.LeaseCheckpointRequest checkpoint => ToProto(checkpoint),
        Store.AlarmRequest alarm => ToProto(alarm),
        null => throw new ArgumentNullException(nameof(request)),
        _ => AuthToProto(request) ?? throw new ArgumentException($"no etcd message for {request.GetType().Name}", nameof(request)),
    };

    /// <summary>An etcd request message the state machine executes, as its store request.</summary>
    public static Store.EtcdRequest ToStoreRequest(IMessage request) => request switch
    {
        Pb.RangeRequest range => ToStore(range),
        Pb.PutRequest put => ToStore(put),
        Pb.DeleteRangeRequest delete => ToStore(delete),
        Pb.TxnRequest txn => ToStore(txn),
        Pb.CompactionRequest compaction => ToStore(compaction),
        Pb.LeaseGrantRequest grant => ToStore(grant),
        Pb.LeaseRevokeRequest revoke => ToStore(revoke),
        Pb.LeaseCheckpointRequest checkpoint => ToStore(checkpoint),
        Pb.AlarmRequest alarm => ToStore(alarm),
        null => throw new ArgumentNullException(nameof(request)),
        _ => AuthToStore(request) ?? throw new ArgumentException($"the state machine executes no {request.Descriptor.FullName}", nameof(request)),
    };

    /// <summary>Any store response as its etcd message, the header filled with <paramref name="ids"/>.</summary>
    public static IMessage ToProto(Store.EtcdResponse response, EtcdHeaderIds ids) => response switch
    {
        Store.RangeResponse range => ToProto(range, ids),
        Store.PutResponse put => ToProto(put, ids),
        Store.DeleteRangeResponse delete => ToProto(delete, ids),
        Store.TxnResponse txn => ToProto(txn, ids),
        Store.CompactionResponse compaction => ToProto(compaction, ids),
        Store.LeaseGrantResponse grant => ToProto(grant, ids),
        Store.LeaseRevokeResponse revoke => ToProto(revoke, ids),
        Store.LeaseCheckpointResponse checkpoint => ToProto(checkpoint, ids),
        Store.LeaseKeepAliveResponse keepAlive => ToProto(keepAlive, ids),
        Store.LeaseTimeToLiveResponse timeToLive => ToProto(timeToLive, ids),
        Store.LeaseLeasesResponse leases => ToProto(leases, ids),
        Store.AlarmResponse alarm => ToProto(alarm, ids),
        null => throw new ArgumentNullException(nameof(response)),
        _ => throw new ArgumentException($"no etcd message for {response.GetType().Name}", nameof(response)),
    };

    /// <summary>An etcd response message as the store response (the header keeps only its revision).</summary>
    public static Store.EtcdResponse ToStoreResponse(IMessage response) => response switch
    {
        Pb.RangeResponse range => ToStore(range),
        Pb.PutResponse put => ToStore(put),
        Pb.DeleteRangeResponse delete => ToStore(delete),
        Pb.TxnResponse txn => ToStore(txn),
        Pb.CompactionResponse compaction => ToStore(compaction),
        Pb.LeaseGrantResponse grant => ToStore(grant),
        Pb.LeaseRevokeResponse revoke => ToStore(revoke),
        Pb.LeaseCheckpointResponse checkpoint => ToStore(checkpoint),
        Pb.LeaseKeepAliveResponse keepAlive => ToStore(keepAlive),
        Pb.LeaseTimeToLiveResponse timeToLive => ToStore(timeToLive),
        Pb.LeaseLeasesResponse leases => ToStore(leases),
        Pb.AlarmResponse alarm => ToStore(alarm),
        null => throw new ArgumentNullException(nameof(response)),
        _ => throw new ArgumentException($"the state machine answers no {response.Descriptor.FullName}", nameof(response)),
    };

    /// <summary>Wraps a store array without copying: store arrays are never mutated.</summary>
    private static ByteString Wrap(byte[] bytes) => bytes.Length == 0 ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(bytes);

    private static byte[] Copy(ByteString bytes) => bytes.IsEmpty ? [] : bytes.ToByteArray();

    private static List<Store.KeyValue> ToStore(IEnumerable<Mvcc.KeyValue> kvs) => [.. kvs.Select(ToStore)];

    private static IEnumerable<Mvcc.KeyValue> ToProto(IReadOnlyList<Store.KeyValue> kvs) => kvs.Select(ToProto);
}
