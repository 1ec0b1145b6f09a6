namespace CurpStore.Store;

/// <summary>
/// Which branch a txn takes, and recursively which branch each nested txn of that branch takes (etcd's txnPath as a
/// tree instead of a flat list). Judged in full before any write, so every compare, nested ones too, sees the store
/// as it was before the txn: etcd's behaviour, confirmed against a real etcd.
/// </summary>
internal sealed record TxnPath(bool Succeeded, IReadOnlyList<TxnPath> Nested)
{
    public static TxnPath Evaluate(MvccTxn txn, TxnRequest request)
    {
        var succeeded = request.Compare.All(compare => CompareEvaluator.Holds(txn, compare));
        var nested = new List<TxnPath>();
        foreach (var op in Branch(request, succeeded))
        {
            if (op.RequestTxn is { } inner)
            {
                nested.Add(Evaluate(txn, inner));
            }
        }
        return new TxnPath(succeeded, nested);
    }

    public static IReadOnlyList<RequestOp> Branch(TxnRequest request, bool succeeded) => succeeded ? request.Success : request.Failure;
}
