using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Hosting;
using CurpStore.Store;
using CurpStore.Wire.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's Lease service. Grant and revoke are replicated writes proposed through CURP like KV writes. Keep-alive and
/// time-to-live are answered from the leader's lease clock (<see cref="LeaseKeeper"/> keeps it): a member that is not
/// the leader forwards them, as etcd does, to the leader's peer URL (<paramref name="peerUrlOf"/>; the peer listener
/// serves them through <see cref="RegisterLeaderAnswers"/>, answering only as the leader, so a forward never
/// travels further). With no leader, or none reachable, it answers as etcd then does: Unavailable "etcdserver: no
/// leader"; etcd clients then retry on another endpoint.
/// </summary>
public sealed class LeaseService(EtcdFacadeContext facade, Func<ulong, Uri?>? peerUrlOf = null)
{
    public static readonly RpcException NoLeader = new(RpcStatus.Unavailable, "etcdserver: no leader");

    /// <summary>How long a forwarded call may take before the client is told there is no leader.</summary>
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The leader's own answers to keep-alive and time-to-live, for followers' forwards (peer listener).</summary>
    public void RegisterLeaderAnswers(GrpcServer peerServer)
    {
        ArgumentNullException.ThrowIfNull(peerServer);
        peerServer.AddUnaryMethod(LeaseMethods.LeaseTimeToLive, async (request, context) =>
            EtcdProtoMapping.ToProto(await LeaderTimeToLiveAsync(request, context.CancellationToken).ConfigureAwait(false), facade.HeaderIds));
        peerServer.AddDuplexStreamingMethod(LeaseMethods.LeaseKeepAlive, async (requests, responses, context) =>
        {
            while (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                var response = await LeaderRenewAsync(requests.Current.ID, context.CancellationToken).ConfigureAwait(false);
                await responses.WriteAsync(EtcdProtoMapping.ToProto(response, facade.HeaderIds), context.CancellationToken).ConfigureAwait(false);
            }
        });
    }

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(LeaseMethods.LeaseGrant, GrantAsync);
        server.AddUnaryMethod(LeaseMethods.LeaseRevoke, RevokeAsync);
        server.AddUnaryMethod(LeaseMethods.LeaseTimeToLive, TimeToLiveAsync);
        server.AddUnaryMethod(LeaseMethods.LeaseLeases, LeasesAsync);
        server.AddDuplexStreamingMethod(LeaseMethods.LeaseKeepAlive, KeepAliveAsync);
    }

    private async Task<Pb.LeaseGrantResponse> GrantAsync(Pb.LeaseGrantRequest request, ServerCallContext context)
    {
        var response = await facade.ProposeAsync(EtcdProtoMapping.ToStore(request), context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((LeaseGrantResponse)response, facade.HeaderIds);
    }

    private async Task<Pb.LeaseRevokeResponse> RevokeAsync(Pb.LeaseRevokeRequest request, ServerCallContext context)
    {
        var response = await facade.ProposeAsync(EtcdProtoMapping.ToStore(request), context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((LeaseRevokeResponse)response, facade.HeaderIds);
    }

    /// <summary>etcd answers an unknown lease with TTL -1 (not an error), which etcdctl prints as "already expired".
    /// With auth on, asking for the keys needs a user that may read each of them (etcd 3.5.9's fix for
    /// CVE-2023-32082; 3.4.23 shows the keys to anyone).</summary>
    private async Task<Pb.LeaseTimeToLiveResponse> TimeToLiveAsync(Pb.LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        LeaseTimeToLiveResponse response;
        try
        {
            response = await LeaderTimeToLiveAsync(request, context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e == NoLeader && LeaderChannel() is { } leader)
        {
            response = EtcdProtoMapping.ToStore(await ForwardAsync(() => leader.UnaryAsync(LeaseMethods.LeaseTimeToLive, request, ForwardOptions(context.CancellationToken))).ConfigureAwait(false));
        }
        if (request.Keys && facade.Auth.State.Enabled)
        {
            var who = await facade.Auth.IdentifyAsync(context, context.CancellationToken).ConfigureAwait(false);
            var refused = who is null ? EtcdError.UserEmpty : response.Keys.Select(key => AuthChecker.Read(facade.Auth.State, who, key, [])).FirstOrDefault(e => e is not null);
            EtcdFacadeContext.ThrowIfInvalid(refused);
        }
        return EtcdProtoMapping.ToProto(response, facade.HeaderIds);
    }

    /// <summary>Every lease known once this member has caught up with the leader (a linearizable read, as etcd 3.5).</summary>
    private async Task<Pb.LeaseLeasesResponse> LeasesAsync(Pb.LeaseLeasesRequest request, ServerCallContext context)
    {
        await facade.BarrierAsync(CommandKeyRanges.AllLeaseMarkers, context.CancellationToken).ConfigureAwait(false);
        var response = await facade.Host.InvokeAsync(_ => facade.Machine.Leases(LeaseKeeper.NowMs()), context.CancellationToken).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto(response, facade.HeaderIds);
    }

    /// <summary>Each request answers with the lease's new TTL, or TTL 0 when it is unknown or already expired (etcd
    /// turns "lease not found" into TTL 0 here). Any other failure ends the stream with its status.</summary>
    private async Task KeepAliveAsync(IAsyncStreamReader<Pb.LeaseKeepAliveRequest> requests, IServerStreamWriter<Pb.LeaseKeepAliveResponse> responses, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        while (await requests.MoveNext(cancellation).ConfigureAwait(false))
        {
            var id = requests.Current.ID;
            LeaseKeepAliveResponse response;
            try
            {
                response = await LeaderRenewAsync(id, cancellation).ConfigureAwait(false);
            }
            catch (RpcException e) when (e == NoLeader && LeaderChannel() is { } leader)
            {
                response = EtcdProtoMapping.ToStore(await ForwardAsync(() => RenewOnceAsync(leader, requests.Current, cancellation)).ConfigureAwait(false));
            }
            await responses.WriteAsync(EtcdProtoMapping.ToProto(response, facade.HeaderIds), cancellation).ConfigureAwait(false);
        }
    }

    private Task<LeaseTimeToLiveResponse> LeaderTimeToLiveAsync(Pb.LeaseTimeToLiveRequest request, CancellationToken cancellationToken) =>
        OnLeaderAsync(() => facade.Machine.LeaseTimeToLive(request.ID, request.Keys, LeaseKeeper.NowMs()), r => r.TtlSeconds >= 0, request.ID, cancellationToken);

    private Task<LeaseKeepAliveResponse> LeaderRenewAsync(long id, CancellationToken cancellationToken) =>
        OnLeaderAsync(() => facade.Machine.RenewLease(id, LeaseKeeper.NowMs()), r => r.TtlSeconds > 0, id, cancellationToken);

    /// <summary>One keep-alive through a short stream of its own to the leader (clients renew every TTL/3 seconds, so
    /// a stream per renewal costs little and never outlives a leader change).</summary>
    private static async Task<Pb.LeaseKeepAliveResponse> RenewOnceAsync(GrpcChannel leader, Pb.LeaseKeepAliveRequest request, CancellationToken cancellationToken)
    {
        using var call = leader.DuplexStreaming(LeaseMethods.LeaseKeepAlive, ForwardOptions(cancellationToken));
        await call.RequestStream.WriteAsync(request).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : throw NoLeader;
    }

    /// <summary>The leader's channel when another member leads and its peer URL is known; null otherwise.</summary>
    private GrpcChannel? LeaderChannel()
    {
        var leaderId = facade.Host.Status.LeaderId;
        if (leaderId == 0 || leaderId == facade.MemberId || peerUrlOf?.Invoke(leaderId) is not { } url)
        {
            return null;
        }
        return facade.Peers.Shared(url); // kept by the member's pool: every forward to the leader reuses one connection
    }

    /// <summary>A forward the leader could not answer (it stepped down, or is unreachable) is "no leader" to the client,
    /// which then retries; etcd's own errors (an auth failure, say) pass through unchanged.</summary>
    private static async Task<T> ForwardAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException
            || (e is RpcException rpc && rpc.StatusCode is RpcStatus.Unavailable or RpcStatus.DeadlineExceeded or RpcStatus.Cancelled))
        {
            throw NoLeader;
        }
    }

    private static CallOptions ForwardOptions(CancellationToken cancellationToken) =>
        new(Deadline: DateTime.UtcNow + ForwardTimeout, CancellationToken: cancellationToken);

    /// <summary>Runs <paramref name="answer"/> on the loop thread if this member leads. When the lease looks unknown,
    /// the grant may have been acknowledged on the fast path but not applied yet: wait for a linearizable read that
    /// conflicts with the lease (ReadIndex plus the unsynced writes on its marker) and ask once more.</summary>
    private async Task<T> OnLeaderAsync<T>(Func<T> answer, Func<T, bool> found, long leaseId, CancellationToken cancellationToken)
    {
        var first = await LeaderInvokeAsync(answer, cancellationToken).ConfigureAwait(false);
        if (found(first))
        {
            return first;
        }
        await facade.BarrierAsync(CommandKeyRanges.LeaseMarker(leaseId), cancellationToken).ConfigureAwait(false);
        return await LeaderInvokeAsync(answer, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> LeaderInvokeAsync<T>(Func<T> answer, CancellationToken cancellationToken)
    {
        var (isLeader, result) = await facade.Host.InvokeAsync(
            node => node.Role == NodeRole.Leader ? (true, answer()) : (false, default(T)!),
            cancellationToken).ConfigureAwait(false);
        return isLeader ? result : throw NoLeader;
    }
}
