using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>etcd's applyCompare / compareKV: every key in the compare's range must satisfy it; an empty range compares
/// a zero-valued key-value, except that VALUE compares always fail on missing keys (gRPC cannot tell an empty value
/// from a missing one).</summary>
internal static class CompareEvaluator
{
    public static bool Holds(MvccTxn txn, Compare compare)
    {
        var found = txn.Range(new KeyRange(compare.Key, compare.RangeEnd), 0, 0, countOnly: false);
        if (found.Error is not null)
        {
            return false;
        }
        if (found.Kvs.Count == 0)
        {
            return compare.Target != CompareTarget.Value && Matches(compare, new KeyValue());
        }
        return found.Kvs.All(kv => Matches(compare, kv));
    }

    private static bool Matches(Compare compare, KeyValue kv)
    {
        var order = compare.Target switch
        {
            CompareTarget.Value => ByteKeyComparer.Instance.Compare(kv.Value, compare.Value),
            CompareTarget.Create => kv.CreateRevision.CompareTo(compare.CreateRevision),
            CompareTarget.Mod => kv.ModRevision.CompareTo(compare.ModRevision),
            CompareTarget.Version => kv.Version.CompareTo(compare.Version),
            CompareTarget.Lease => kv.Lease.CompareTo(compare.Lease),
            _ => 0,
        };
        return compare.Result switch
        {
            CompareResult.Equal => order == 0,
            CompareResult.NotEqual => order != 0,
            CompareResult.Greater => order > 0,
            CompareResult.Less => order < 0,
            _ => true, // etcd: an unknown result passes
        };
    }
}
