using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>etcd's lessor Grant / Revoke / Checkpoint as replicated commands. Expiry is not decided here: the leader
/// proposes a revoke when its <see cref="LeaseClock"/> says a lease expired.</summary>
internal static class LeaseExecutor
{
    public static ICommandResult Grant(MvccTxn txn, LeaseGrantRequest request, ulong index, EtcdStoreOptions options)
    {
        var state = txn.State;
        var id = request.Id != 0 ? request.Id : LeaseIds.Choose(index, state);
        if (request.TtlSeconds > options.MaxLeaseTtlSeconds)
        {
            return EtcdError.LeaseTtlTooLarge;
        }
        if (state.FindLease(id) is not null)
        {
            return EtcdError.LeaseExists;
        }
        var ttl = Math.Max(request.TtlSeconds, options.MinLeaseTtlSeconds);
        state.SaveLease(new LeaseInfo(id, ttl, 0));
        return new LeaseGrantResponse { Header = new ResponseHeader(state.Revision), Id = id, TtlSeconds = ttl };
    }

    /// <summary>Deletes the attached keys in key order, all in one revision, then forgets the lease.</summary>
    public static ICommandResult Revoke(MvccTxn txn, LeaseRevokeRequest request)
    {
        var state = txn.State;
        if (state.FindLease(request.Id) is null)
        {
            return EtcdError.LeaseNotFound;
        }
        foreach (var key in state.AttachedKeys(request.Id))
        {
            txn.DeleteRange(KeyRange.Single(key));
        }
        state.DeleteLease(request.Id);
        return new LeaseRevokeResponse { Header = new ResponseHeader(txn.ReadRevision) };
    }

    /// <summary>Records remaining TTLs; unknown leases are skipped, as in etcd.</summary>
    public static ICommandResult Checkpoint(MvccTxn txn, LeaseCheckpointRequest request)
    {
        var state = txn.State;
        foreach (var checkpoint in request.Checkpoints)
        {
            if (state.FindLease(checkpoint.Id) is { } lease)
            {
                state.SaveLease(lease with { RemainingTtlSeconds = checkpoint.RemainingTtlSeconds });
            }
        }
        return new LeaseCheckpointResponse { Header = new ResponseHeader(state.Revision) };
    }
}
