using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>etcd's kvstore Compact: at most the current revision, strictly above the last compaction (so compacting
/// at 0 works once on a fresh store, as etcd's initial compacted revision is -1). Does not change the revision.</summary>
internal static class CompactionExecutor
{
    public static ICommandResult Execute(MvccTxn txn, CompactionRequest request)
    {
        var state = txn.State;
        if (request.Revision <= state.CompactedRevision)
        {
            return EtcdError.Compacted;
        }
        if (request.Revision > state.Revision)
        {
            return EtcdError.FutureRevision;
        }
        state.Compact(request.Revision);
        return new CompactionResponse { Header = new ResponseHeader(state.Revision) };
    }
}
