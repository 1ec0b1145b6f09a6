using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The request checks etcd's gRPC layer makes before a request is proposed (server/etcdserver/api/v3rpc/key.go:
/// checkRangeRequest, checkPutRequest, checkDeleteRequest, checkTxnRequest, checkIntervals), with the same order and
/// the same errors. The server may run them before proposing; the state machine runs them again because a request in
/// the log must be judged the same way by every member.
/// </summary>
public static class RequestValidator
{
    /// <summary>How deep txns may nest (a txn holding a txn is depth 2). etcd bounds nesting only through the op budget
    /// (each level gets what is left of --max-txn-ops, so 128 levels); here a request and its response must also decode
    /// within protobuf's default depth of 100 messages, and each txn level takes two (TxnRequest, RequestOp; TxnResponse,
    /// ResponseOp). Deeper is refused as etcd refuses an exhausted budget, with "too many operations".</summary>
    public const int MaxTxnDepth = 32;

    public static EtcdError? ValidateRange(RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.Length == 0)
        {
            return EtcdError.EmptyKey;
        }
        if (!Enum.IsDefined(request.SortOrder) || !Enum.IsDefined(request.SortTarget))
        {
            return EtcdError.InvalidSortOption;
        }
        return null;
    }

    public static EtcdError? ValidatePut(PutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.Length == 0)
        {
            return EtcdError.EmptyKey;
        }
        if (request.IgnoreValue && request.Value.Length != 0)
        {
            return EtcdError.ValueProvided;
        }
        if (request.IgnoreLease && request.Lease != 0)
        {
            return EtcdError.LeaseProvided;
        }
        return null;
    }

    public static EtcdError? ValidateDeleteRange(DeleteRangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Key.Length == 0 ? EtcdError.EmptyKey : null;
    }

    /// <summary>etcd's checkTxnRequest followed by checkIntervals on both branches.</summary>
    public static EtcdError? ValidateTxn(TxnRequest request, int maxTxnOps)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CheckTxn(request, maxTxnOps, depth: 1) ?? CheckIntervals(request.Success).Error ?? CheckIntervals(request.Failure).Error;
    }

    /// <summary>etcd's checkTxnRequest: the widest of compares, success and failure counts against the budget, and a
    /// nested txn gets what is left of it.</summary>
    private static EtcdError? CheckTxn(TxnRequest request, int maxTxnOps, int depth)
    {
        var opCount = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (opCount > maxTxnOps || depth > MaxTxnDepth)
        {
            return EtcdError.TooManyOps;
        }
        foreach (var compare in request.Compare)
        {
            if (compare.Key.Length == 0)
            {
                return EtcdError.EmptyKey;
            }
        }
        foreach (var op in request.Success.Concat(request.Failure))
        {
            if (CheckOp(op, maxTxnOps - opCount, depth) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    private static EtcdError? CheckOp(RequestOp op, int maxTxnOps, int depth) => op switch
    {
        { RequestRange: { } range } => ValidateRange(range),
        { RequestPut: { } put } => ValidatePut(put),
        { RequestDeleteRange: { } delete } => ValidateDeleteRange(delete),
        { RequestTxn: { } txn } => CheckTxn(txn, maxTxnOps, depth + 1),
        _ => EtcdError.KeyNotFound, // an empty oneof: etcd answers "key not found"
    };

    /// <summary>
    /// etcd's checkIntervals: a key may be written once per txn, so a put may not repeat a put or fall inside a delete
    /// of the same txn (the two branches of a nested txn may put the same key, since only one runs). Reproduces etcd
    /// exactly, including that a delete with range end "\0" (from-key) is an empty interval there and so never
    /// conflicts with a put.
    /// </summary>
    private static (EtcdError? Error, HashSet<byte[]> Puts, List<(byte[] Begin, byte[] End)> Deletes) CheckIntervals(IReadOnlyList<RequestOp> ops)
    {
        var deletes = new List<(byte[] Begin, byte[] End)>();
        foreach (var op in ops)
        {
            if (op.RequestDeleteRange is { } delete)
            {
                deletes.Add((delete.Key, delete.RangeEnd.Length != 0 ? delete.RangeEnd : [.. delete.Key, 0]));
            }
        }
        var puts = new HashSet<byte[]>(ByteKeyComparer.Instance);
        foreach (var op in ops)
        {
            if (op.RequestTxn is not { } txn)
            {
                continue;
            }
            var then = CheckIntervals(txn.Success);
            if (then.Error is not null)
            {
                return then;
            }
            var otherwise = CheckIntervals(txn.Failure);
            if (otherwise.Error is not null)
            {
                return otherwise;
            }
            foreach (var key in then.Puts)
            {
                if (puts.Contains(key) || Intersects(deletes, key))
                {
                    return (EtcdError.DuplicateKey, puts, deletes);
                }
                puts.Add(key);
            }
            foreach (var key in otherwise.Puts)
            {
                if ((puts.Contains(key) && !then.Puts.Contains(key)) || Intersects(deletes, key))
                {
                    return (EtcdError.DuplicateKey, puts, deletes);
                }
                puts.Add(key);
            }
            deletes.AddRange(then.Deletes);
            deletes.AddRange(otherwise.Deletes);
        }
        foreach (var op in ops)
        {
            if (op.RequestPut is not { } put)
            {
                continue;
            }
            if (puts.Contains(put.Key) || Intersects(deletes, put.Key))
            {
                return (EtcdError.DuplicateKey, puts, deletes);
            }
            puts.Add(put.Key);
        }
        return (null, puts, deletes);
    }

    /// <summary>Whether the point <paramref name="key"/> lies in some half-open [Begin, End) (an interval whose end is
    /// not above its begin holds nothing).</summary>
    private static bool Intersects(List<(byte[] Begin, byte[] End)> deletes, byte[] key)
    {
        foreach (var (begin, end) in deletes)
        {
            if (begin.AsSpan().SequenceCompareTo(key) <= 0 && key.AsSpan().SequenceCompareTo(end) < 0)
            {
                return true;
            }
        }
        return false;
    }
}
