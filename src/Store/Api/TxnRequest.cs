namespace CurpStore.Store;

/// <summary>
/// etcd's TxnRequest: if every <see cref="Compare"/> holds, run <see cref="Success"/>, else <see cref="Failure"/>. All
/// writes of the taken branches (nested txns included) share one main revision with increasing sub revisions. As in
/// etcd, every compare, nested ones too, is judged against the state before the txn.
/// </summary>
public sealed record TxnRequest : EtcdRequest
{
    public IReadOnlyList<Compare> Compare { get; init; } = [];

    public IReadOnlyList<RequestOp> Success { get; init; } = [];

    public IReadOnlyList<RequestOp> Failure { get; init; } = [];
}
