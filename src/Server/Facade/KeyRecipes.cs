using System.Globalization;
using System.Text;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Watch;
using CurpStore.Store;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>
/// The building blocks etcd's <c>client/v3/concurrency</c> Mutex and Election share, issued as the same store
/// requests through the facade (so writes take the CURP fast path and reads are linearizable), with the member's
/// watch hub in place of etcd's watchers: a waiter takes the hub's next-advance signal, reads the key on this member
/// and sleeps until something is applied. Nothing is registered per waiter, so a cancelled call leaves nothing behind.
/// </summary>
internal sealed class KeyRecipes(EtcdFacadeContext facade, WatchHub hub)
{
    /// <summary>etcd's default session TTL: a Lock or Campaign without a lease gets a new lease of this TTL, as
    /// <c>concurrency.NewSession</c> grants one.</summary>
    public const long DefaultSessionTtlSeconds = 60;

    /// <summary>How long a clean-up after a cancelled call may take (etcd runs it on the server's own context).</summary>
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(10);

    public EtcdFacadeContext Facade => facade;

    public WatchHub Hub => hub;

    /// <summary>etcd serves Lock and Election through its in-process client, which turns the store's gRPC errors into
    /// plain errors: the client sees gRPC's Unknown code with the store's message ("etcdserver: requested lease not
    /// found" comes as Unknown, checked against etcd). The call's own cancellation and deadline keep their codes.</summary>
    public static async Task<T> AsEtcdClientErrors<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode is not (RpcStatus.Unknown or RpcStatus.Cancelled or RpcStatus.DeadlineExceeded))
        {
            throw new RpcException(RpcStatus.Unknown, e.Detail);
        }
    }

    /// <summary><see cref="AsEtcdClientErrors{T}(Func{Task{T}})"/> for a call without a result (a stream).</summary>
    public static Task AsEtcdClientErrors(Func<Task> call) => AsEtcdClientErrors(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>etcd's waiter key: <c>prefix</c> followed by the lease id in lower-case hex (Go's <c>%x</c>).</summary>
    public static byte[] WaiterKey(byte[] prefix, long leaseId) =>
        [.. prefix, .. Encoding.ASCII.GetBytes(leaseId.ToString("x", CultureInfo.InvariantCulture))];

    /// <summary>The lease of a Lock or Campaign: the caller's, or a new one as etcd's session grants when none is given.</summary>
    public async Task<long> SessionLeaseAsync(long leaseId, ServerCallContext context)
    {
        if (leaseId != 0)
        {
            return leaseId;
        }
        var granted = (LeaseGrantResponse)await facade.ProposeAsync(new LeaseGrantRequest { TtlSeconds = DefaultSessionTtlSeconds }, context).ConfigureAwait(false);
        return granted.Id;
    }

    /// <summary>If key's create revision is 0, put it with the lease, else read it; either way read the prefix's oldest
    /// key when <paramref name="withOwner"/> (the Mutex's one-round-trip acquire).</summary>
    public async Task<TxnResponse> CreateIfAbsentAsync(byte[] key, byte[] value, long leaseId, byte[]? ownerPrefix, ServerCallContext context)
    {
        var success = new List<RequestOp> { new PutRequest { Key = key, Value = value, Lease = leaseId } };
        var failure = new List<RequestOp> { new RangeRequest { Key = key } };
        if (ownerPrefix is not null)
        {
            success.Add(FirstCreate(ownerPrefix));
            failure.Add(FirstCreate(ownerPrefix));
        }
        var txn = new TxnRequest
        {
            Compare = [CreateRevisionIs(key, 0)],
            Success = success,
            Failure = failure,
        };
        return (TxnResponse)await facade.ProposeAsync(txn, context).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="then"/> if key still has <paramref name="createRevision"/>.</summary>
    public async Task<TxnResponse> IfCreatedAtAsync(byte[] key, long createRevision, RequestOp then, ServerCallContext context, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest { Compare = [CreateRevisionIs(key, createRevision)], Success = [then] };
        return (TxnResponse)await facade.ProposeAsync(txn, context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A clean-up write that must happen even though the call was cancelled (etcd's Unlock / Resign on the
    /// client's own context); bounded by <see cref="CleanupTimeout"/>, and a failure is only logged by the caller's
    /// error.</summary>
    public async Task CleanupAsync(Func<CancellationToken, Task> cleanup)
    {
        using var timeout = new CancellationTokenSource(CleanupTimeout);
        try
        {
            await cleanup(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // etcd ignores the clean-up's error too; a key left behind goes with its lease.
        }
    }

    /// <summary>The oldest key (by create revision) under <paramref name="prefix"/>, linearizable.</summary>
    public async Task<RangeResponse> OldestAsync(byte[] prefix, ServerCallContext context) =>
        (RangeResponse)await facade.ReadAsync(FirstCreate(prefix), serializable: false, context).ConfigureAwait(false);

    /// <summary>The key as this member has applied it (null when absent).</summary>
    public async Task<KeyValue?> LocalAsync(byte[] key, ServerCallContext context)
    {
        var response = (RangeResponse)await facade.ReadAsync(new RangeRequest { Key = key, Serializable = true }, serializable: true, context).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    /// <summary>etcd's <c>waitDeletes</c>: until no key under <paramref name="prefix"/> was created at or before
    /// <paramref name="maxCreateRevision"/>, wait for the deletion of the newest such key.</summary>
    public async Task WaitDeletesAsync(byte[] prefix, long maxCreateRevision, ServerCallContext context)
    {
        while (true)
        {
            var newest = new RangeRequest
            {
                Key = prefix,
                RangeEnd = KeyRange.PrefixEnd(prefix),
                SortTarget = SortTarget.Create,
                SortOrder = SortOrder.Descend,
                Limit = 1,
                MaxCreateRevision = maxCreateRevision,
            };
            var response = (RangeResponse)await facade.ReadAsync(newest, serializable: false, context).ConfigureAwait(false);
            if (response.Kvs.Count == 0)
            {
                return;
            }
            await WaitGoneAsync(response.Kvs[0].Key, response.Kvs[0].CreateRevision, context).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the key created at <paramref name="createRevision"/> is deleted on this member (etcd
    /// watches for its DELETE event; a key deleted and created again is a different key here too).</summary>
    public async Task WaitGoneAsync(byte[] key, long createRevision, ServerCallContext context)
    {
        while (true)
        {
            var advance = hub.NextAdvance; // taken before the read, so that no change in between is missed
            var current = await LocalAsync(key, context).ConfigureAwait(false);
            if (current is null || current.CreateRevision != createRevision)
            {
                return;
            }
            await WaitAdvanceAsync(advance, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the hub's next applied change; a cancelled call ends with etcd's cancellation status.</summary>
    public static async Task WaitAdvanceAsync(Task advance, CancellationToken cancellationToken)
    {
        try
        {
            await advance.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(RpcStatus.Cancelled, "context canceled");
        }
    }

    /// <summary>Completes at the hub's next applied change (take it before looking).</summary>
    public Task NextAdvance => hub.NextAdvance;

    /// <summary>etcd's <c>WithFirstCreate</c>: the prefix sorted by create revision, ascending, limit 1.</summary>
    public static RangeRequest FirstCreate(byte[] prefix) => new()
    {
        Key = prefix,
        RangeEnd = KeyRange.PrefixEnd(prefix),
        SortTarget = SortTarget.Create,
        SortOrder = SortOrder.Ascend,
        Limit = 1,
    };

    private static Compare CreateRevisionIs(byte[] key, long createRevision) => new()
    {
        Result = CompareResult.Equal,
        Target = CompareTarget.Create,
        Key = key,
        CreateRevision = createRevision,
    };
}
