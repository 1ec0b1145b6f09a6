namespace CurpStore.Store;

/// <summary>etcd's ResponseOp: the answer to one <see cref="RequestOp"/> of the branch a txn took.</summary>
public sealed record ResponseOp
{
    public ResponseOp(RangeResponse range) => ResponseRange = range;

    public ResponseOp(PutResponse put) => ResponsePut = put;

    public ResponseOp(DeleteRangeResponse deleteRange) => ResponseDeleteRange = deleteRange;

    public ResponseOp(TxnResponse txn) => ResponseTxn = txn;

    public RangeResponse? ResponseRange { get; }

    public PutResponse? ResponsePut { get; }

    public DeleteRangeResponse? ResponseDeleteRange { get; }

    public TxnResponse? ResponseTxn { get; }
}
