namespace CurpStore.Store;

/// <summary>etcd's TxnResponse. A nested txn's header has revision 0: etcd fills only the outer header.</summary>
public sealed record TxnResponse : EtcdResponse
{
    public bool Succeeded { get; init; }

    public IReadOnlyList<ResponseOp> Responses { get; init; } = [];
}
