using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>Txn: compares, request and response ops (nested txns included).</summary>
public static partial class EtcdProtoMapping
{
    public static Store.TxnRequest ToStore(Pb.TxnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.TxnRequest
        {
            Compare = [.. request.Compare.Select(ToStore)],
            Success = [.. request.Success.Select(ToStore)],
            Failure = [.. request.Failure.Select(ToStore)],
        };
    }

    public static Pb.TxnRequest ToProto(Store.TxnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var proto = new Pb.TxnRequest();
        proto.Compare.AddRange(request.Compare.Select(ToProto));
        proto.Success.AddRange(request.Success.Select(ToProto));
        proto.Failure.AddRange(request.Failure.Select(ToProto));
        return proto;
    }

    /// <summary>
    /// The operand goes to the store only when the oneof holds the one the target reads, which is all etcd's compareKV
    /// looks at: a target of VERSION with a mod_revision operand compares against version 0 in etcd, and so it does
    /// in the store. Result and target numbers pass through unchanged (etcd accepts undefined ones too).
    /// </summary>
    public static Store.Compare ToStore(Pb.Compare compare)
    {
        ArgumentNullException.ThrowIfNull(compare);
        var target = (Store.CompareTarget)(int)compare.Target;
        var operand = compare.TargetUnionCase;
        return new Store.Compare
        {
            Result = (Store.CompareResult)(int)compare.Result,
            Target = target,
            Key = Copy(compare.Key),
            RangeEnd = Copy(compare.RangeEnd),
            Version = target == Store.CompareTarget.Version && operand == Pb.Compare.TargetUnionOneofCase.Version ? compare.Version : 0,
            CreateRevision = target == Store.CompareTarget.Create && operand == Pb.Compare.TargetUnionOneofCase.CreateRevision ? compare.CreateRevision : 0,
            ModRevision = target == Store.CompareTarget.Mod && operand == Pb.Compare.TargetUnionOneofCase.ModRevision ? compare.ModRevision : 0,
            Value = target == Store.CompareTarget.Value && operand == Pb.Compare.TargetUnionOneofCase.Value ? Copy(compare.Value) : [],
            Lease = target == Store.CompareTarget.Lease && operand == Pb.Compare.TargetUnionOneofCase.Lease ? compare.Lease : 0,
        };
    }

    /// <summary>Sets the oneof operand the target reads, always (as clientv3 does, even for 0); the store's other
    /// operands are never read and have no place in the message. An undefined target gets no operand.</summary>
    public static Pb.Compare ToProto(Store.Compare compare)
    {
        ArgumentNullException.ThrowIfNull(compare);
        var proto = new Pb.Compare
        {
            Result = (Pb.Compare.Types.CompareResult)(int)compare.Result,
            Target = (Pb.Compare.Types.CompareTarget)(int)compare.Target,
            Key = Wrap(compare.Key),
            RangeEnd = Wrap(compare.RangeEnd),
        };
        switch (compare.Target)
        {
            case Store.CompareTarget.Version:
                proto.Version = compare.Version;
                break;
            case Store.CompareTarget.Create:
                proto.CreateRevision = compare.CreateRevision;
                break;
            case Store.CompareTarget.Mod:
                proto.ModRevision = compare.ModRevision;
                break;
            case Store.CompareTarget.Value:
                proto.Value = Wrap(compare.Value);
                break;
            case Store.CompareTarget.Lease:
                proto.Lease = compare.Lease;
                break;
        }
        return proto;
    }

    /// <summary>An op with no request set becomes <see cref="Store.RequestOp.Empty"/>, which the store rejects with
    /// "etcdserver: key not found" as etcd does.</summary>
    public static Store.RequestOp ToStore(Pb.RequestOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return op.RequestCase switch
        {
            Pb.RequestOp.RequestOneofCase.RequestRange => new Store.RequestOp(ToStore(op.RequestRange)),
            Pb.RequestOp.RequestOneofCase.RequestPut => new Store.RequestOp(ToStore(op.RequestPut)),
            Pb.RequestOp.RequestOneofCase.RequestDeleteRange => new Store.RequestOp(ToStore(op.RequestDeleteRange)),
            Pb.RequestOp.RequestOneofCase.RequestTxn => new Store.RequestOp(ToStore(op.RequestTxn)),
            _ => Store.RequestOp.Empty,
        };
    }

    public static Pb.RequestOp ToProto(Store.RequestOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return op switch
        {
            { RequestRange: { } range } => new Pb.RequestOp { RequestRange = ToProto(range) },
            { RequestPut: { } put } => new Pb.RequestOp { RequestPut = ToProto(put) },
            { RequestDeleteRange: { } delete } => new Pb.RequestOp { RequestDeleteRange = ToProto(delete) },
            { RequestTxn: { } txn } => new Pb.RequestOp { RequestTxn = ToProto(txn) },
            _ => new Pb.RequestOp(),
        };
    }

    public static Store.TxnResponse ToStore(Pb.TxnResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.TxnResponse
        {
            Header = ToStore(response.Header),
            Succeeded = response.Succeeded,
            Responses = [.. response.Responses.Select(ToStore)],
        };
    }

    /// <summary>Only the outer header gets <paramref name="ids"/>; inner responses carry just their revision, as etcd
    /// fills only the header of the response it sends.</summary>
    public static Pb.TxnResponse ToProto(Store.TxnResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.TxnResponse { Header = ToProto(response.Header, ids), Succeeded = response.Succeeded };
        proto.Responses.AddRange(response.Responses.Select(ToProto));
        return proto;
    }

    /// <summary>Throws <see cref="FormatException"/> for an op without a response: the store never answers one.</summary>
    public static Store.ResponseOp ToStore(Pb.ResponseOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return op.ResponseCase switch
        {
            Pb.ResponseOp.ResponseOneofCase.ResponseRange => new Store.ResponseOp(ToStore(op.ResponseRange)),
            Pb.ResponseOp.ResponseOneofCase.ResponsePut => new Store.ResponseOp(ToStore(op.ResponsePut)),
            Pb.ResponseOp.ResponseOneofCase.ResponseDeleteRange => new Store.ResponseOp(ToStore(op.ResponseDeleteRange)),
            Pb.ResponseOp.ResponseOneofCase.ResponseTxn => new Store.ResponseOp(ToStore(op.ResponseTxn)),
            _ => throw new FormatException("a txn ResponseOp carries no response"),
        };
    }

    public static Pb.ResponseOp ToProto(Store.ResponseOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return op switch
        {
            { ResponseRange: { } range } => new Pb.ResponseOp { ResponseRange = ToProto(range, EtcdHeaderIds.None) },
            { ResponsePut: { } put } => new Pb.ResponseOp { ResponsePut = ToProto(put, EtcdHeaderIds.None) },
            { ResponseDeleteRange: { } delete } => new Pb.ResponseOp { ResponseDeleteRange = ToProto(delete, EtcdHeaderIds.None) },
            { ResponseTxn: { } txn } => new Pb.ResponseOp { ResponseTxn = ToProto(txn, EtcdHeaderIds.None) },
            _ => throw new ArgumentException("a ResponseOp without a response", nameof(op)),
        };
    }
}
