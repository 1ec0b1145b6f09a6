using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// etcd's applier Txn: validate, judge the whole path on the state before the txn, check the puts (lease exists,
/// ignore_* keys exist) and the ranges (revision not compacted nor future) of the path, then run it. Every check runs
/// before the first write, so a failing txn changes nothing.
/// </summary>
internal static class TxnExecutor
{
    public static ICommandResult Execute(MvccTxn txn, TxnRequest request, int maxTxnOps)
    {
        if (RequestValidator.ValidateTxn(request, maxTxnOps) is { } invalid)
        {
            return invalid;
        }
        var path = TxnPath.Evaluate(txn, request);
        if (CheckPath(txn, request, path, CheckPut) is { } putError)
        {
            return putError;
        }
        if (CheckPath(txn, request, path, CheckRange) is { } rangeError)
        {
            return rangeError;
        }
        if (IgnoredPutAfterFromKeyDelete(request, path, []))
        {
            return EtcdError.KeyNotFound;
        }
        var response = Run(txn, request, path);
        return response with { Header = new ResponseHeader(txn.ReadRevision) };
    }

    /// <summary>Whether the request writes in any branch (etcd routes read-only txns as reads).</summary>
    public static bool IsReadOnly(TxnRequest request) =>
        request.Success.Concat(request.Failure).All(op => op.RequestRange is not null || (op.RequestTxn is { } inner && IsReadOnly(inner)));

    private static TxnResponse Run(MvccTxn txn, TxnRequest request, TxnPath path)
    {
        var responses = new List<ResponseOp>();
        var nested = 0;
        foreach (var op in TxnPath.Branch(request, path.Succeeded))
        {
            responses.Add(op switch
            {
                { RequestRange: { } range } => new ResponseOp(RangeExecutor.Execute(txn, range) as RangeResponse
                    ?? throw new InvalidOperationException("a range failed after its checks passed")),
                { RequestPut: { } put } => new ResponseOp(KvExecutor.Put(txn, put) as PutResponse
                    ?? throw new InvalidOperationException("a put failed after its checks passed")),
                { RequestDeleteRange: { } delete } => new ResponseOp(KvExecutor.DeleteRange(txn, delete)),
                { RequestTxn: { } inner } => new ResponseOp(Run(txn, inner, path.Nested[nested++])),
                _ => throw new InvalidOperationException("empty request op passed validation"),
            });
        }
        // A nested txn's header stays at revision 0: etcd sets only the outermost one.
        return new TxnResponse { Header = new ResponseHeader(0), Succeeded = path.Succeeded, Responses = responses };
    }

    /// <summary>etcd's checkRequests: runs <paramref name="check"/> on every non-txn op of the taken path, depth first.</summary>
    private static EtcdError? CheckPath(MvccTxn txn, TxnRequest request, TxnPath path, Func<MvccTxn, RequestOp, EtcdError?> check)
    {
        var nested = 0;
        foreach (var op in TxnPath.Branch(request, path.Succeeded))
        {
            var error = op.RequestTxn is { } inner ? CheckPath(txn, inner, path.Nested[nested++], check) : check(txn, op);
            if (error is not null)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>
    /// A put with ignore_value / ignore_lease needs its key, which <see cref="CheckPut"/> finds before the txn; but an
    /// earlier from-key delete of the same txn (the one delete the duplicate check lets through) may remove it. etcd
    /// then fails the put halfway through the txn and panics; here the whole txn fails first, with the error the put
    /// would give, so nothing is written and every member agrees.
    /// </summary>
    private static bool IgnoredPutAfterFromKeyDelete(TxnRequest request, TxnPath path, List<byte[]> fromKeyDeletes)
    {
        var nested = 0;
        foreach (var op in TxnPath.Branch(request, path.Succeeded))
        {
            switch (op)
            {
                case { RequestDeleteRange: { } delete } when new KeyRange(delete.Key, delete.RangeEnd).IsToInfinity:
                    fromKeyDeletes.Add(delete.Key);
                    break;
                case { RequestPut: { } put } when (put.IgnoreValue || put.IgnoreLease)
                    && fromKeyDeletes.Any(start => ByteKeyComparer.Instance.Compare(start, put.Key) <= 0):
                    return true;
                case { RequestTxn: { } inner } when IgnoredPutAfterFromKeyDelete(inner, path.Nested[nested++], fromKeyDeletes):
                    return true;
            }
        }
        return false;
    }

    private static EtcdError? CheckPut(MvccTxn txn, RequestOp op)
    {
        if (op.RequestPut is not { } put)
        {
            return null;
        }
        if ((put.IgnoreValue || put.IgnoreLease) && txn.Range(KeyRange.Single(put.Key), 0, 0, countOnly: false).Kvs.Count == 0)
        {
            return EtcdError.KeyNotFound;
        }
        return put.Lease != 0 && txn.State.FindLease(put.Lease) is null ? EtcdError.LeaseNotFound : null;
    }

    /// <summary>etcd's checkRange: judged against the revision before the txn; note that a negative revision fails as
    /// compacted here (it is below etcd's first revision), unlike in a plain Range where it means "current".</summary>
    private static EtcdError? CheckRange(MvccTxn txn, RequestOp op)
    {
        if (op.RequestRange is not { } range || range.Revision == 0)
        {
            return null;
        }
        if (range.Revision > txn.BeginRevision)
        {
            return EtcdError.FutureRevision;
        }
        return range.Revision < txn.State.CompactedRevision ? EtcdError.Compacted : null;
    }
}
