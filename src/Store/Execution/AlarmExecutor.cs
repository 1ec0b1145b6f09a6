using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// etcd's alarms as the state machine applies them: the Alarm request itself (<c>applierV3backend.Alarm</c>) and what
/// an active alarm refuses. While NOSPACE is active, etcd's capped applier refuses puts, txns with a put in either
/// branch, and lease grants (deletes, reads and compaction still run, so space can be freed); while CORRUPT is active,
/// etcd's corrupt applier refuses every write (reads are served as before). Every member decides the same, because
/// alarms are applied state.
/// </summary>
internal static class AlarmExecutor
{
    public static AlarmResponse Execute(IMvccState state, AlarmRequest request)
    {
        var alarms = state.Alarms;
        var header = new ResponseHeader(state.Revision);
        var member = new AlarmMember(request.MemberId, request.Alarm);
        switch (request.Action)
        {
            case AlarmAction.Get:
                return new AlarmResponse { Header = header, Alarms = alarms.Get(request.Alarm) };
            case AlarmAction.Activate when request.Alarm != AlarmType.None:
                if (!alarms.Contains(member))
                {
                    state.SetAlarms(alarms.With(member));
                }
                // etcd answers the alarm whether it was new or already active.
                return new AlarmResponse { Header = header, Alarms = [member] };
            case AlarmAction.Deactivate when alarms.Contains(member):
                state.SetAlarms(alarms.Without(member));
                return new AlarmResponse { Header = header, Alarms = [member] };
            default:
                return new AlarmResponse { Header = header };
        }
    }

    /// <summary>The error an active alarm answers <paramref name="request"/> with, or null when it may run.</summary>
    public static EtcdError? Refusal(AlarmSet alarms, EtcdRequest request)
    {
        if (alarms.IsEmpty)
        {
            return null;
        }
        if (alarms.Has(AlarmType.Corrupt) && IsWrite(request))
        {
            return EtcdError.Corrupt;
        }
        if (alarms.Has(AlarmType.NoSpace) && QuotaCost(request) > 0)
        {
            return EtcdError.NoSpace;
        }
        return null;
    }

    /// <summary>What etcd's corrupt applier refuses: every KV and lease write (lease checkpoints and auth are not
    /// refused there either).</summary>
    private static bool IsWrite(EtcdRequest request) => request switch
    {
        PutRequest or DeleteRangeRequest or CompactionRequest or LeaseGrantRequest or LeaseRevokeRequest => true,
        TxnRequest txn => !TxnExecutor.IsReadOnly(txn),
        _ => false,
    };

    /// <summary>etcd's backend quota cost (etcdserver/quota.go): 256 bytes of overhead plus key and value per put, for a
    /// txn the larger of its two branches' top-level puts, 64 bytes for a lease grant; 0 for everything else.</summary>
    public static long QuotaCost(EtcdRequest request) => request switch
    {
        PutRequest put => PutCost(put),
        TxnRequest txn => Math.Max(BranchCost(txn.Success), BranchCost(txn.Failure)),
        LeaseGrantRequest => LeaseOverheadBytes,
        _ => 0,
    };

    /// <summary>etcd's kvOverhead.</summary>
    public const long KvOverheadBytes = 256;

    /// <summary>etcd's leaseOverhead.</summary>
    public const long LeaseOverheadBytes = 64;

    private static long PutCost(PutRequest put) => KvOverheadBytes + put.Key.Length + put.Value.Length;

    private static long BranchCost(IReadOnlyList<RequestOp> ops) => ops.Sum(op => op.RequestPut is { } put ? PutCost(put) : 0);
}
