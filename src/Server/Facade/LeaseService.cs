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
/// the leader does not forward them (it does not know the leader's client URL) and answers as etcd does when no leader
/// can be reached: Unavailable "etcdserver: no leader"; etcd clients then retry on another endpoint.
/// </summary>
public sealed class LeaseService(EtcdFacadeContext facade)
{
    public static readonly RpcException NoLeader = new(RpcStatus.Unavailable, "etcdserver: no leader");

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
        var response = await OnLeaderAsync(
            () => facade.Machine.LeaseTimeToLive(request.ID, request.Keys, LeaseKeeper.NowMs()),
            r => r.TtlSeconds >= 0,
            request.ID,
            context.CancellationToken).ConfigureAwait(false);
        if (request.Keys && facade.Auth.State.Enabled)
        {
            var who = await facade.Auth.IdentifyAsync(context.RequestHeaders, context.CancellationToken).ConfigureAwait(false);
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
            var response = await OnLeaderAsync(
                () => facade.Machine.RenewLease(id, LeaseKeeper.NowMs()),
                r => r.TtlSeconds > 0,
                id,
                cancellation).ConfigureAwait(false);
            await responses.WriteAsync(EtcdProtoMapping.ToProto(response, facade.HeaderIds), cancellation).ConfigureAwait(false);
        }
    }

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
