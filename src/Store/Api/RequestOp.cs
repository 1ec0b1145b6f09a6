namespace CurpStore.Store;

/// <summary>
/// etcd's RequestOp: a oneof of range, put, delete-range or a nested txn. Built only through the constructors, so at
/// most one member is set; <see cref="Empty"/> is the unset oneof, which etcd rejects with "key not found".
/// </summary>
public sealed record RequestOp
{
    public static readonly RequestOp Empty = new();

    private RequestOp()
    {
    }

    public RequestOp(RangeRequest range) => RequestRange = range ?? throw new ArgumentNullException(nameof(range));

    public RequestOp(PutRequest put) => RequestPut = put ?? throw new ArgumentNullException(nameof(put));

    public RequestOp(DeleteRangeRequest deleteRange) => RequestDeleteRange = deleteRange ?? throw new ArgumentNullException(nameof(deleteRange));

    public RequestOp(TxnRequest txn) => RequestTxn = txn ?? throw new ArgumentNullException(nameof(txn));

    public RangeRequest? RequestRange { get; }

    public PutRequest? RequestPut { get; }

    public DeleteRangeRequest? RequestDeleteRange { get; }

    public TxnRequest? RequestTxn { get; }

    public static implicit operator RequestOp(RangeRequest range) => new(range);

    public static implicit operator RequestOp(PutRequest put) => new(put);

    public static implicit operator RequestOp(DeleteRangeRequest deleteRange) => new(deleteRange);

    public static implicit operator RequestOp(TxnRequest txn) => new(txn);
}
