using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// etcd's applier Range on top of <see cref="MvccTxn.Range"/>: limit push-down only when the store's key order is
/// the answer's order, revision filters after the fetch, then sort and truncate. Sorting is stable (ties keep key
/// order); etcd's sort is not stable in general but behaves so for small answers, as checked against etcd.
/// </summary>
internal static class RangeExecutor
{
    public static ICommandResult Execute(MvccTxn txn, RangeRequest request)
    {
        var filtered = request.MinModRevision != 0 || request.MaxModRevision != 0
            || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;
        var limit = request.SortOrder != SortOrder.None || filtered ? 0 : request.Limit;
        if (limit > 0)
        {
            limit++; // one extra tells whether there is more
        }
        var found = txn.Range(new KeyRange(request.Key, request.RangeEnd), request.Revision, limit, request.CountOnly);
        if (found.Error is { } error)
        {
            return error;
        }
        var kvs = found.Kvs;
        if (request.MaxModRevision != 0)
        {
            kvs.RemoveAll(kv => kv.ModRevision > request.MaxModRevision);
        }
        if (request.MinModRevision != 0)
        {
            kvs.RemoveAll(kv => kv.ModRevision < request.MinModRevision);
        }
        if (request.MaxCreateRevision != 0)
        {
            kvs.RemoveAll(kv => kv.CreateRevision > request.MaxCreateRevision);
        }
        if (request.MinCreateRevision != 0)
        {
            kvs.RemoveAll(kv => kv.CreateRevision < request.MinCreateRevision);
        }
        kvs = Sort(kvs, request);
        var more = false;
        if (request.Limit > 0 && kvs.Count > request.Limit)
        {
            kvs.RemoveRange((int)request.Limit, kvs.Count - (int)request.Limit);
            more = true;
        }
        if (request.KeysOnly)
        {
            kvs = kvs.ConvertAll(kv => kv with { Value = [] });
        }
        return new RangeResponse { Header = new ResponseHeader(found.Revision), Kvs = kvs, More = more, Count = found.Count };
    }

    private static List<KeyValue> Sort(List<KeyValue> kvs, RangeRequest request)
    {
        var order = request.SortOrder;
        if (request.SortTarget != SortTarget.Key && order == SortOrder.None)
        {
            order = SortOrder.Ascend; // etcd: a sort target without an order means ascending
        }
        else if (request.SortTarget == SortTarget.Key && order == SortOrder.Ascend)
        {
            order = SortOrder.None; // already in key order
        }
        if (order == SortOrder.None)
        {
            return kvs;
        }
        var sorted = request.SortTarget switch
        {
            SortTarget.Version => Order(kvs, kv => kv.Version, Comparer<long>.Default, order),
            SortTarget.Create => Order(kvs, kv => kv.CreateRevision, Comparer<long>.Default, order),
            SortTarget.Mod => Order(kvs, kv => kv.ModRevision, Comparer<long>.Default, order),
            SortTarget.Value => Order(kvs, kv => kv.Value, ByteKeyComparer.Instance, order),
            _ => Order(kvs, kv => kv.Key, ByteKeyComparer.Instance, order),
        };
        return [.. sorted];
    }

    private static IEnumerable<KeyValue> Order<T>(List<KeyValue> kvs, Func<KeyValue, T> selector, IComparer<T> comparer, SortOrder order) =>
        order == SortOrder.Descend ? kvs.OrderByDescending(selector, comparer) : kvs.OrderBy(selector, comparer);
}
