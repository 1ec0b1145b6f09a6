using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using ElectionPb = CurpStore.Rpc.Etcd.V3ElectionPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's <c>v3electionpb.Election</c> service, as etcd's <c>v3election</c> package serves it with the
/// <c>concurrency.Election</c> recipe: a candidate's key is <c>name/</c> followed by its lease id in hex; the oldest
/// key under the name is the leader; the leader's key {name, key, create revision, lease} is what Proclaim and Resign
/// must present. etcd's recipe errors are plain Go errors, so gRPC's Unknown code with their text.
/// </summary>
internal sealed class ElectionService(KeyRecipes recipes)
{
    public static readonly RpcException NotLeader = new(RpcStatus.Unknown, "election: not leader");

    public static readonly RpcException NoLeader = new(RpcStatus.Unknown, "election: no leader");

    /// <summary>Revisions an observer takes from the hub at once (then it writes them, under the stream's flow control).</summary>
    private const int ObserveBatchRevisions = 64;

    public static readonly RpcException MissingLeaderKey = new(RpcStatus.Unknown, "\"leader\" field must be provided");

    public void Register(GrpcServer server)
    {
        server.AddUnaryMethod(ElectionMethods.Campaign, (request, context) => KeyRecipes.AsEtcdClientErrors(() => CampaignAsync(request, context)));
        server.AddUnaryMethod(ElectionMethods.Proclaim, (request, context) => KeyRecipes.AsEtcdClientErrors(() => ProclaimAsync(request, context)));
        server.AddUnaryMethod(ElectionMethods.Leader, (request, context) => KeyRecipes.AsEtcdClientErrors(() => LeaderAsync(request, context)));
        server.AddServerStreamingMethod(ElectionMethods.Observe, (request, responses, context) => KeyRecipes.AsEtcdClientErrors(() => ObserveAsync(request, responses, context)));
        server.AddUnaryMethod(ElectionMethods.Resign, (request, context) => KeyRecipes.AsEtcdClientErrors(() => ResignAsync(request, context)));
    }

    private static byte[] PrefixOf(ByteString name) => [.. name.Span, (byte)'/'];

    private async Task<ElectionPb.CampaignResponse> CampaignAsync(ElectionPb.CampaignRequest request, ServerCallContext context)
    {
        var facade = recipes.Facade;
        facade.ThrowIfTooLarge(request);
        var leaseId = await recipes.SessionLeaseAsync(request.Lease, context).ConfigureAwait(false);
        var prefix = PrefixOf(request.Name);
        var key = KeyRecipes.WaiterKey(prefix, leaseId);
        var value = request.Value.ToByteArray();
        var campaign = await recipes.CreateIfAbsentAsync(key, value, leaseId, ownerPrefix: null, context).ConfigureAwait(false);
        var revision = campaign.Header.Revision;
        if (!campaign.Succeeded)
        {
            var existing = campaign.Responses[0].ResponseRange!.Kvs[0];
            revision = existing.CreateRevision;
            if (!existing.Value.AsSpan().SequenceEqual(value))
            {
                try
                {
                    await ProclaimAsync(key, revision, value, context).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    await recipes.CleanupAsync(token => ResignAsync(key, revision, context, token)).ConfigureAwait(false);
                    throw;
                }
            }
        }
        try
        {
            await recipes.WaitDeletesAsync(prefix, revision - 1, context).ConfigureAwait(false);
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            // As etcd: a candidate whose call was cancelled withdraws, so that it does not become leader later.
            await recipes.CleanupAsync(token => ResignAsync(key, revision, context, token)).ConfigureAwait(false);
            throw;
        }
        return new ElectionPb.CampaignResponse
        {
            Header = EtcdProtoMapping.ToProto(campaign.Header, facade.HeaderIds),
            Leader = new ElectionPb.LeaderKey { Name = request.Name, Key = ByteString.CopyFrom(key), Rev = revision, Lease = leaseId },
        };
    }

    private async Task<ElectionPb.ProclaimResponse> ProclaimAsync(ElectionPb.ProclaimRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw MissingLeaderKey;
        recipes.Facade.ThrowIfTooLarge(request);
        var header = await ProclaimAsync(leader.Key.ToByteArray(), leader.Rev, request.Value.ToByteArray(), context).ConfigureAwait(false);
        return new ElectionPb.ProclaimResponse { Header = header };
    }

    private async Task<ElectionPb.ResignResponse> ResignAsync(ElectionPb.ResignRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw MissingLeaderKey;
        var header = await ResignAsync(leader.Key.ToByteArray(), leader.Rev, context, context.CancellationToken).ConfigureAwait(false);
        return new ElectionPb.ResignResponse { Header = header };
    }

    private async Task<ElectionPb.LeaderResponse> LeaderAsync(ElectionPb.LeaderRequest request, ServerCallContext context)
    {
        var oldest = await recipes.OldestAsync(PrefixOf(request.Name), context).ConfigureAwait(false);
        if (oldest.Kvs.Count == 0)
        {
            throw NoLeader;
        }
        return Leader(oldest.Header.Revision, oldest.Kvs[0]);
    }

    /// <summary>etcd's <c>Election.Observe</c>: the current leader (or the first one to come), then each value it
    /// proclaims (one response per revision, from the member's watch hub as etcd's watch gives them), then, once its
    /// key is deleted, the next leader, until the client cancels. When the hub no longer holds the revisions it needs
    /// (a slow reader), it reads the key instead and sends its latest value.</summary>
    private async Task ObserveAsync(ElectionPb.LeaderRequest request, IServerStreamWriter<ElectionPb.LeaderResponse> responses, ServerCallContext context)
    {
        var prefix = PrefixOf(request.Name);
        var cancellation = context.CancellationToken;
        var changes = new List<Watch.RevisionEvents>();
        while (!cancellation.IsCancellationRequested)
        {
            var advance = recipes.NextAdvance;
            var oldest = await recipes.OldestAsync(prefix, context).ConfigureAwait(false);
            if (oldest.Kvs.Count == 0)
            {
                await KeyRecipes.WaitAdvanceAsync(advance, cancellation).ConfigureAwait(false);
                continue;
            }
            var leader = oldest.Kvs[0];
            await responses.WriteAsync(Leader(oldest.Header.Revision, leader), cancellation).ConfigureAwait(false);
            var next = oldest.Header.Revision + 1;
            var deleted = false;
            while (!deleted)
            {
                advance = recipes.NextAdvance;
                if (recipes.Hub.Read(next, ObserveBatchRevisions, changes, out var readThrough) == Watch.HubReadResult.Behind)
                {
                    var current = await recipes.LocalAsync(leader.Key, context).ConfigureAwait(false);
                    deleted = current is null || current.CreateRevision != leader.CreateRevision;
                    if (!deleted && current!.ModRevision > leader.ModRevision)
                    {
                        leader = current;
                        await responses.WriteAsync(Leader(current.ModRevision, current), cancellation).ConfigureAwait(false);
                    }
                    next = readThrough + 1;
                }
                else
                {
                    foreach (var change in changes)
                    {
                        var events = change.Events.Where(e => e.Kv.Key.AsSpan().SequenceEqual(leader.Key));
                        foreach (var e in events)
                        {
                            if (e.Type == WatchEventType.Delete)
                            {
                                deleted = true;
                                break;
                            }
                            if (e.Kv.ModRevision <= leader.ModRevision)
                            {
                                continue; // already sent from a read after the hub fell behind
                            }
                            leader = e.Kv;
                            await responses.WriteAsync(Leader(change.Revision, e.Kv), cancellation).ConfigureAwait(false);
                        }
                        if (deleted)
                        {
                            break;
                        }
                    }
                    next = readThrough + 1;
                }
                if (!deleted && changes.Count == 0)
                {
                    await KeyRecipes.WaitAdvanceAsync(advance, cancellation).ConfigureAwait(false);
                }
            }
        }
        throw new RpcException(RpcStatus.Cancelled, "context canceled");
    }

    /// <summary>etcd's <c>Election.Proclaim</c>: a new value under the leader's key, if it is still the key created at
    /// <paramref name="createRevision"/> (the lease stays as it is).</summary>
    private async Task<Pb.ResponseHeader> ProclaimAsync(byte[] key, long createRevision, byte[] value, ServerCallContext context)
    {
        var put = new PutRequest { Key = key, Value = value, IgnoreLease = true };
        var response = await recipes.IfCreatedAtAsync(key, createRevision, put, context, context.CancellationToken).ConfigureAwait(false);
        return response.Succeeded ? EtcdProtoMapping.ToProto(response.Header, recipes.Facade.HeaderIds) : throw NotLeader;
    }

    /// <summary>etcd's <c>Election.Resign</c>: deletes the leader's key if it is still the one created at
    /// <paramref name="createRevision"/>; a key that is gone already is no error.</summary>
    private async Task<Pb.ResponseHeader> ResignAsync(byte[] key, long createRevision, ServerCallContext context, CancellationToken cancellationToken)
    {
        var response = await recipes.IfCreatedAtAsync(key, createRevision, new DeleteRangeRequest { Key = key }, context, cancellationToken).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto(response.Header, recipes.Facade.HeaderIds);
    }

    private ElectionPb.LeaderResponse Leader(long revision, KeyValue kv) => new()
    {
        Header = EtcdProtoMapping.ToProto(new ResponseHeader(revision), recipes.Facade.HeaderIds),
        Kv = EtcdProtoMapping.ToProto(kv),
    };
}
