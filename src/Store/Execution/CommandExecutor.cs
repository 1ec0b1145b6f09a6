using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The one place requests are executed, for apply, speculation and reads alike, so the three cannot drift apart. Runs
/// a request as one <see cref="MvccTxn"/> and returns its answer with the records it wrote (for watch events). When
/// auth is enabled the requester's permission is checked first (after the request's own checks, etcd's order: those
/// run in its gRPC layer, the permission check when the request is applied).
/// </summary>
internal static class CommandExecutor
{
    public static Execution Execute(IMvccState state, EtcdRequest request, ulong index, EtcdStoreOptions options)
    {
        // An active alarm refuses before anything else, as etcd swaps its whole applier while one is raised.
        if (AlarmExecutor.Refusal(state.Alarms, request) is { } alarmed)
        {
            return new Execution(alarmed, []);
        }
        if (request is AlarmRequest alarm)
        {
            return new Execution(AlarmExecutor.Execute(state, alarm), []);
        }
        // The request's own checks run first only to keep etcd's order of errors; with auth off nothing is refused here.
        if (state.Auth.Enabled && (Validate(request, options) ?? AuthChecker.Check(state, request)) is { } refused)
        {
            return new Execution(refused, []);
        }
        if (AuthExecutor.IsAuthRequest(request))
        {
            return new Execution(AuthExecutor.Execute(state, request, index), []);
        }
        var txn = new MvccTxn(state);
        var result = request switch
        {
            RangeRequest range => RequestValidator.ValidateRange(range) ?? RangeExecutor.Execute(txn, range),
            PutRequest put => PutStandalone(txn, put),
            DeleteRangeRequest delete => RequestValidator.ValidateDeleteRange(delete) ?? (ICommandResult)KvExecutor.DeleteRange(txn, delete),
            TxnRequest txnRequest => TxnExecutor.Execute(txn, txnRequest, options.MaxTxnOps),
            CompactionRequest compaction => CompactionExecutor.Execute(txn, compaction),
            LeaseGrantRequest grant => LeaseExecutor.Grant(txn, grant, index, options),
            LeaseRevokeRequest revoke => LeaseExecutor.Revoke(txn, revoke),
            LeaseCheckpointRequest checkpoint => LeaseExecutor.Checkpoint(txn, checkpoint),
            _ => throw new ArgumentException($"unknown request type {request.GetType().Name}", nameof(request)),
        };
        txn.End();
        return new Execution(result, txn.Changes);
    }

    private static EtcdError? Validate(EtcdRequest request, EtcdStoreOptions options) => request switch
    {
        RangeRequest range => RequestValidator.ValidateRange(range),
        PutRequest put => RequestValidator.ValidatePut(put),
        DeleteRangeRequest delete => RequestValidator.ValidateDeleteRange(delete),
        TxnRequest txn => RequestValidator.ValidateTxn(txn, options.MaxTxnOps),
        _ => null,
    };

    /// <summary>A put outside a txn checks its lease before reading the key (etcd's order when both fail).</summary>
    private static ICommandResult PutStandalone(MvccTxn txn, PutRequest put)
    {
        if (RequestValidator.ValidatePut(put) is { } invalid)
        {
            return invalid;
        }
        if (put.Lease != 0 && txn.State.FindLease(put.Lease) is null)
        {
            return EtcdError.LeaseNotFound;
        }
        return KvExecutor.Put(txn, put);
    }
}

/// <summary>A request's answer and the records it wrote, in sub-revision order.</summary>
internal sealed record Execution(ICommandResult Result, IReadOnlyList<KvRecord> Changes);
