using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>etcd's applier Put and DeleteRange, shared by standalone requests and txn branches (the standalone checks
/// live in <see cref="CommandExecutor"/>, the txn ones in <see cref="TxnExecutor"/>).</summary>
internal static class KvExecutor
{
    public static ICommandResult Put(MvccTxn txn, PutRequest request)
    {
        RangeResult? previous = null;
        if (request.IgnoreValue || request.IgnoreLease || request.PrevKv)
        {
            previous = txn.Range(KeyRange.Single(request.Key), 0, 0, countOnly: false);
        }
        var existing = previous?.Kvs.Count > 0 ? previous.Kvs[0] : null;
        if ((request.IgnoreValue || request.IgnoreLease) && existing is null)
        {
            return EtcdError.KeyNotFound; // ignore_value / ignore_lease need the key's current version
        }
        var value = request.IgnoreValue ? existing!.Value : request.Value;
        var lease = request.IgnoreLease ? existing!.Lease : request.Lease;
        var revision = txn.Put(request.Key, value, lease);
        return new PutResponse { Header = new ResponseHeader(revision), PrevKv = request.PrevKv ? existing : null };
    }

    public static DeleteRangeResponse DeleteRange(MvccTxn txn, DeleteRangeRequest request)
    {
        var range = new KeyRange(request.Key, request.RangeEnd);
        IReadOnlyList<KeyValue> previous = request.PrevKv ? txn.Range(range, 0, 0, countOnly: false).Kvs : [];
        var (deleted, revision) = txn.DeleteRange(range);
        return new DeleteRangeResponse { Header = new ResponseHeader(revision), Deleted = deleted, PrevKvs = previous };
    }
}
