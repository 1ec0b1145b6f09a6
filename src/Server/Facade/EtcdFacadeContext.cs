using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Hosting;
using CurpStore.Server.Metrics;
using CurpStore.Server.Transport;
using CurpStore.Store;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using CurpStore.Wire.Etcd;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>What every etcd service of one member shares: the host that proposes on the clients' behalf, the state
/// machine for serializable reads, the auth gate that tells who a client is, the ids for response headers, and the
/// translation of failures into the status codes and messages etcd gives.</summary>
public sealed class EtcdFacadeContext(NodeHost host, EtcdStateMachine machine, AuthGate auth, ulong clusterId, ulong memberId)
{
    public NodeHost Host { get; } = host;

    public EtcdStateMachine Machine { get; } = machine;

    public AuthGate Auth { get; } = auth;

    public ulong ClusterId { get; } = clusterId;

    public ulong MemberId { get; } = memberId;

    public EtcdHeaderIds HeaderIds => new(ClusterId, MemberId, Host.Status.Term);

    /// <summary>etcd's --max-request-bytes: writes whose request is larger are refused.</summary>
    public int MaxRequestBytes { get; init; } = 1_572_864;

    /// <summary>How the services dial other members (forwards to the leader, hash checks): with the peer TLS settings.</summary>
    public PeerChannels Peers { get; init; } = PeerChannels.Plain;

    /// <summary>The store engine's directory, whose files Status reports as <c>dbSize</c>.</summary>
    public required string BackendDirectory { get; init; }

    /// <summary>etcd's --quota-backend-bytes as bytes (<see cref="long.MaxValue"/>: no quota).</summary>
    public long QuotaBackendBytes { get; init; } = Configuration.ServerOptions.DefaultQuotaBackendBytes;

    /// <summary>Refuses a write request above <see cref="MaxRequestBytes"/> as etcd does (after the request's own checks,
    /// before it is proposed).</summary>
    public void ThrowIfTooLarge(Google.Protobuf.IMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.CalculateSize() > MaxRequestBytes)
        {
            throw new RpcException(RpcStatus.InvalidArgument, "etcdserver: request is too large");
        }
    }

    /// <summary>etcd's response header at <paramref name="revision"/>, for answers that do not come from the store.</summary>
    public Pb.ResponseHeader Header(long revision) => new()
    {
        ClusterId = ClusterId,
        MemberId = MemberId,
        Revision = revision,
        RaftTerm = Host.Status.Term,
    };

    /// <summary>Proposes a write through CURP (this member is the proposer) on behalf of the call's requester and
    /// returns the store's answer (a refusal when the requester may not).</summary>
    public Task<EtcdResponse> ProposeAsync(EtcdRequest request, ServerCallContext context, bool asRequester = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ProposeAsync(request, context, context.CancellationToken, asRequester);
    }

    /// <summary>As <see cref="ProposeAsync(EtcdRequest, ServerCallContext, bool)"/>, bounded by
    /// <paramref name="cancellationToken"/> instead of the call's own token: for clean-ups that must still run after
    /// the client cancelled its call (as etcd's recipes do them on the server's own context).</summary>
    public async Task<EtcdResponse> ProposeAsync(EtcdRequest request, ServerCallContext context, CancellationToken cancellationToken, bool asRequester = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        await ThrowIfOverQuotaAsync(request, cancellationToken).ConfigureAwait(false);
        if (asRequester)
        {
            request = await AuthorizeAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
        var completion = await Host.ProposeAsync(id => new EtcdCommand(id, request), cancellationToken).ConfigureAwait(false);
        if (completion.Succeeded)
        {
            // etcd clients ignore unknown trailers; the load tool counts them against this member's /metrics.
            context.ResponseTrailers.Add(CommitPathTrailer.Name, MemberMetrics.PathLabel(completion.Path));
        }
        return Answer(completion);
    }

    /// <summary>Proposes a change of the alarms (or a listing, which etcd also sends through raft) as the member itself:
    /// every member applies it, so every member refuses the same writes.</summary>
    public async Task<AlarmResponse> ProposeAlarmAsync(AlarmRequest request, CancellationToken cancellationToken)
    {
        var completion = await Host.ProposeAsync(id => new EtcdCommand(id, request), cancellationToken).ConfigureAwait(false);
        return (AlarmResponse)Answer(completion);
    }

    /// <summary>etcd's quotaKVServer / quotaLeaseServer check: a put, a txn with puts or a lease grant whose cost would
    /// take the store's size to the quota raises NOSPACE for this member through the log and is refused. The store's
    /// size is this member's applied one, so concurrent writes may overshoot by what is in flight, as in etcd.</summary>
    private async Task ThrowIfOverQuotaAsync(EtcdRequest request, CancellationToken cancellationToken)
    {
        var cost = EtcdStateMachine.QuotaCost(request);
        if (cost == 0 || Machine.DbSizeBytes + cost < QuotaBackendBytes)
        {
            return;
        }
        await ProposeAlarmAsync(new AlarmRequest { Action = AlarmAction.Activate, MemberId = MemberId, Alarm = AlarmType.NoSpace }, cancellationToken).ConfigureAwait(false);
        throw ToRpc(EtcdError.NoSpace);
    }

    /// <summary>A linearizable read goes through the leader's ReadIndex; a serializable one is served by this member.
    /// Either way the store checks the requester's permission as it reads.</summary>
    public async Task<EtcdResponse> ReadAsync(EtcdRequest request, bool serializable, ServerCallContext context)
    {
        request = await AuthorizeAsync(request, context, context.CancellationToken).ConfigureAwait(false);
        if (serializable)
        {
            var local = await Host.InvokeAsync(_ => Machine.Read(request), context.CancellationToken).ConfigureAwait(false);
            return Check(local);
        }
        var completion = await Host.ReadAsync(id => new EtcdCommand(id, request), context.CancellationToken).ConfigureAwait(false);
        return Answer(completion);
    }

    /// <summary>A linearizable count-only read of <paramref name="range"/> as the members themselves: returns once this
    /// member has applied everything the leader committed, and every unsynced write on that range.</summary>
    public async Task BarrierAsync(KeyRange range, CancellationToken cancellationToken)
    {
        var read = new RangeRequest { Key = range.Start, RangeEnd = range.End, CountOnly = true, Auth = RequestAuth.Member };
        var completion = await Host.ReadAsync(id => new EtcdCommand(id, read), cancellationToken).ConfigureAwait(false);
        if (completion.Error != ProposeError.None)
        {
            Answer(completion);
        }
    }

    public static void ThrowIfInvalid(EtcdError? error)
    {
        if (error is not null)
        {
            throw ToRpc(error);
        }
    }

    private async ValueTask<EtcdRequest> AuthorizeAsync(EtcdRequest request, ServerCallContext context, CancellationToken cancellationToken)
    {
        var who = await Auth.IdentifyAsync(context, cancellationToken).ConfigureAwait(false);
        return who is null && request.Auth is null ? request : request with { Auth = who }; // no copy while auth is off
    }

    private static EtcdResponse Answer(Completion completion) => completion.Error switch
    {
        ProposeError.None => Check(completion.Result),
        ProposeError.TooManyRequests => throw EtcdStatuses.TooManyRequests.ToException(),
        // The proposer gave up (no leader answered within its retries) or the session expired: the outcome is
        // unknown, which etcd reports as a timeout.
        _ => throw new RpcException(RpcStatus.Unavailable, "etcdserver: request timed out"),
    };

    private static EtcdResponse Check(ICommandResult? result) => result switch
    {
        EtcdResponse response => response,
        EtcdError error => throw ToRpc(error),
        _ => throw new RpcException(RpcStatus.Internal, $"unexpected answer {result?.GetType().Name ?? "null"}"),
    };

    private static RpcException ToRpc(EtcdError error) => new((RpcStatus)(int)error.Code, error.Message);
}
