using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Members;
using CurpStore.Store;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's Cluster service: MemberList, MemberAdd, MemberRemove, MemberUpdate and MemberPromote, with etcd 3.5's checks
/// and errors (the strict reconfiguration check is on by default, as in etcd). Only the leader changes the
/// configuration: another member checks the caller's permission, then passes the call on to the leader's peer URL,
/// where this service is registered too (as etcd forwards a promotion to its leader over the peer port). Members are
/// the core's configuration, one change at a time, with each member's attributes (<see cref="MemberAttributes"/>);
/// every member publishes its name and client URLs the same way when it starts (<see cref="PublishMethod"/>).
/// </summary>
public sealed class ClusterService(EtcdFacadeContext facade, MemberDirectory directory, ClusterServiceOptions options, Action<string>? log = null)
{
    /// <summary>A member publishes its name and client URLs (etcd's <c>publish</c>): the request is the member as it
    /// wants to be listed; only its name and client URLs are taken. Served on the peer URL only.</summary>
    public static readonly Method<Pb.Member, Pb.MemberUpdateResponse> PublishMethod =
        new(MethodType.Unary, "curpstore.Members", "Publish", Pb.Member.Parser, Pb.MemberUpdateResponse.Parser);

    internal static readonly RpcException NoLeader = new(RpcStatus.Unavailable, "etcdserver: no leader");
    internal static readonly RpcException BadUrls = new(RpcStatus.InvalidArgument, "etcdserver: given member URLs are invalid");
    internal static readonly RpcException PeerUrlExists = new(RpcStatus.FailedPrecondition, "etcdserver: Peer URLs already exists");
    internal static readonly RpcException MemberNotFound = new(RpcStatus.NotFound, "etcdserver: member not found");
    internal static readonly RpcException NotEnoughStarted = new(RpcStatus.FailedPrecondition, "etcdserver: re-configuration failed due to not enough started members");
    internal static readonly RpcException Unhealthy = new(RpcStatus.Unavailable, "etcdserver: unhealthy cluster");
    internal static readonly RpcException TooManyLearners = new(RpcStatus.FailedPrecondition, "etcdserver: too many learner members in cluster");
    internal static readonly RpcException NotLearner = new(RpcStatus.FailedPrecondition, "etcdserver: can only promote a learner member");
    internal static readonly RpcException LearnerNotReady = new(RpcStatus.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");
    internal static readonly RpcException TimedOut = new(RpcStatus.Unavailable, "etcdserver: request timed out");

    private readonly Action<string> log = log ?? (_ => { });

    /// <summary>Registers the service for clients (permission checked here) or, with <paramref name="peerListener"/>,
    /// for other members passing calls on (already checked by them) plus <see cref="PublishMethod"/>.</summary>
    public void Register(GrpcServer server, bool peerListener)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(ClusterMethods.MemberList, MemberListAsync);
        server.AddUnaryMethod(ClusterMethods.MemberAdd, (request, context) => MemberAddAsync(request, context, checkPermission: !peerListener));
        server.AddUnaryMethod(ClusterMethods.MemberRemove, (request, context) => MemberRemoveAsync(request, context, checkPermission: !peerListener));
        server.AddUnaryMethod(ClusterMethods.MemberUpdate, (request, context) => MemberUpdateAsync(request, context, checkPermission: !peerListener));
        server.AddUnaryMethod(ClusterMethods.MemberPromote, (request, context) => MemberPromoteAsync(request, context, checkPermission: !peerListener));
        if (peerListener)
        {
            server.AddUnaryMethod(PublishMethod, PublishAsync);
        }
    }

    /// <summary>The members as etcd lists them: voters, then learners; an unstarted member has no name and no client
    /// URLs.</summary>
    public async Task<Pb.MemberListResponse> ListMembersAsync(CancellationToken cancellationToken)
    {
        var response = new Pb.MemberListResponse { Header = await HeaderAsync(cancellationToken).ConfigureAwait(false) };
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    /// <summary>etcd 3.5's <c>linearizable</c> option: the list reflects every configuration committed before the call
    /// (a ReadIndex barrier, then one loop turn, after which the member directory has seen what was applied); without
    /// it, this member's own copy, as etcd serves it.</summary>
    private async Task<Pb.MemberListResponse> MemberListAsync(Pb.MemberListRequest request, ServerCallContext context)
    {
        if (request.Linearizable)
        {
            await facade.BarrierAsync(CommandKeyRanges.MembersMarker, context.CancellationToken).ConfigureAwait(false);
            // The directory is refreshed at the end of the loop turn that applied the barrier; a later turn runs after it.
            await facade.Host.InvokeAsync(_ => true, context.CancellationToken).ConfigureAwait(false);
        }
        return await ListMembersAsync(context.CancellationToken).ConfigureAwait(false);
    }

    private async Task<Pb.MemberAddResponse> MemberAddAsync(Pb.MemberAddRequest request, ServerCallContext context, bool checkPermission)
    {
        var peerUrls = ValidUrls(request.PeerURLs);
        if (await ForwardAsync(ClusterMethods.MemberAdd, request, context, checkPermission).ConfigureAwait(false) is { } forwarded)
        {
            return forwarded;
        }
        // etcd: the id hashes the peer URLs and the time (and an empty cluster name), so a member added again gets a new id.
        var id = Configuration.MemberIds.MemberId(peerUrls.Select(u => new Uri(u)), DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var attributes = MemberAttributes.Unstarted(peerUrls).ToJson();
        await ChangeAsync(node =>
        {
            var members = MembersOf(node);
            if (options.StrictReconfigCheck && !request.IsLearner && !IsReadyToAddVoter(members))
            {
                throw NotEnoughStarted;
            }
            if (options.StrictReconfigCheck && !HearsAllVoters(node))
            {
                throw Unhealthy;
            }
            if (members.Any(m => m.Attributes.PeerUrls.Intersect(peerUrls).Any()))
            {
                throw PeerUrlExists;
            }
            if (request.IsLearner && members.Count(m => m.IsLearner) >= options.MaxLearners)
            {
                throw TooManyLearners;
            }
            return node.ProposeMembershipChange(request.IsLearner ? MembershipChangeKind.AddLearner : MembershipChangeKind.AddVoter, id, attributes);
        }, context.CancellationToken).ConfigureAwait(false);
        log($"added member {id:x16} {string.Join(',', peerUrls)}{(request.IsLearner ? " as a learner" : "")}");
        var response = new Pb.MemberAddResponse { Header = await HeaderAsync(context.CancellationToken).ConfigureAwait(false), Member = new Pb.Member { ID = id, IsLearner = request.IsLearner } };
        response.Member.PeerURLs.AddRange(peerUrls);
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    private async Task<Pb.MemberRemoveResponse> MemberRemoveAsync(Pb.MemberRemoveRequest request, ServerCallContext context, bool checkPermission)
    {
        if (checkPermission)
        {
            await facade.Auth.ThrowUnlessAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        }
        if (request.ID == facade.MemberId && facade.Host.Status.LeaderId == facade.MemberId && directory.Membership.Voters.Count > 1)
        {
            // The leader is asked to remove itself: it hands leadership over first, then the new leader removes it.
            await HandOverLeadershipAsync(context.CancellationToken).ConfigureAwait(false);
        }
        if (await ForwardAsync(ClusterMethods.MemberRemove, request, context, checkPermission: false).ConfigureAwait(false) is { } forwarded)
        {
            return forwarded;
        }
        await ChangeAsync(node =>
        {
            var members = MembersOf(node);
            var target = members.FirstOrDefault(m => m.Id == request.ID);
            if (options.StrictReconfigCheck && (target is null || !target.IsLearner))
            {
                if (!IsReadyToRemoveVoter(members, request.ID))
                {
                    throw NotEnoughStarted;
                }
                var heard = node.RecentlyHeardMembers();
                // A member that is down is safe to remove: it is not part of the active quorum.
                if (target is not null && heard.Contains(request.ID))
                {
                    var voters = node.Members.Voters;
                    var active = voters.Count(heard.Contains);
                    if (active - 1 < 1 + ((voters.Count - 1) / 2))
                    {
                        throw Unhealthy;
                    }
                }
            }
            return target is null ? throw MemberNotFound : node.ProposeMembershipChange(MembershipChangeKind.Remove, request.ID);
        }, context.CancellationToken).ConfigureAwait(false);
        log($"removed member {request.ID:x16}");
        var response = new Pb.MemberRemoveResponse { Header = await HeaderAsync(context.CancellationToken).ConfigureAwait(false) };
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    private async Task<Pb.MemberUpdateResponse> MemberUpdateAsync(Pb.MemberUpdateRequest request, ServerCallContext context, bool checkPermission)
    {
        var peerUrls = ValidUrls(request.PeerURLs);
        if (await ForwardAsync(ClusterMethods.MemberUpdate, request, context, checkPermission).ConfigureAwait(false) is { } forwarded)
        {
            return forwarded;
        }
        await ChangeAsync(node =>
        {
            var members = MembersOf(node);
            var target = members.FirstOrDefault(m => m.Id == request.ID) ?? throw MemberNotFound;
            if (members.Any(m => m.Id != request.ID && m.Attributes.PeerUrls.Intersect(peerUrls).Any()))
            {
                throw PeerUrlExists;
            }
            return node.ProposeMembershipChange(MembershipChangeKind.SetAttributes, request.ID, (target.Attributes with { PeerUrls = peerUrls }).ToJson());
        }, context.CancellationToken).ConfigureAwait(false);
        log($"updated member {request.ID:x16} peer URLs to {string.Join(',', peerUrls)}");
        var response = new Pb.MemberUpdateResponse { Header = await HeaderAsync(context.CancellationToken).ConfigureAwait(false) };
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    private async Task<Pb.MemberPromoteResponse> MemberPromoteAsync(Pb.MemberPromoteRequest request, ServerCallContext context, bool checkPermission)
    {
        if (await ForwardAsync(ClusterMethods.MemberPromote, request, context, checkPermission).ConfigureAwait(false) is { } forwarded)
        {
            return forwarded;
        }
        await ChangeAsync(node =>
        {
            var members = MembersOf(node);
            var target = members.FirstOrDefault(m => m.Id == request.ID);
            // etcd's order: the leader's progress first (a member it does not know passes), then the configuration.
            if (target is { IsLearner: true } && !node.IsLearnerInSync(request.ID))
            {
                throw LearnerNotReady;
            }
            if (options.StrictReconfigCheck && !IsReadyToPromote(members))
            {
                throw NotEnoughStarted;
            }
            return target switch
            {
                null => throw MemberNotFound,
                { IsLearner: false } => throw NotLearner,
                _ => node.ProposeMembershipChange(MembershipChangeKind.PromoteLearner, request.ID),
            };
        }, context.CancellationToken).ConfigureAwait(false);
        log($"promoted member {request.ID:x16}");
        var response = new Pb.MemberPromoteResponse { Header = await HeaderAsync(context.CancellationToken).ConfigureAwait(false) };
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    private async Task<Pb.MemberUpdateResponse> PublishAsync(Pb.Member request, ServerCallContext context)
    {
        if (await ForwardAsync(PublishMethod, request, context, checkPermission: false).ConfigureAwait(false) is { } forwarded)
        {
            return forwarded;
        }
        await ChangeAsync(node =>
        {
            var target = MembersOf(node).FirstOrDefault(m => m.Id == request.ID) ?? throw MemberNotFound;
            var published = target.Attributes with { Name = request.Name, ClientUrls = [.. request.ClientURLs] };
            return node.ProposeMembershipChange(MembershipChangeKind.SetAttributes, request.ID, published.ToJson());
        }, context.CancellationToken).ConfigureAwait(false);
        var response = new Pb.MemberUpdateResponse { Header = await HeaderAsync(context.CancellationToken).ConfigureAwait(false) };
        response.Members.AddRange(ToProto(directory.Members));
        return response;
    }

    /// <summary>Runs <paramref name="propose"/> on the leader's loop (its checks and the proposal see one state), then
    /// waits until the change is committed. Another change still uncommitted is waited out, as etcd queues its
    /// configuration changes.</summary>
    private async Task ChangeAsync(Func<CurpNode, MembershipChangeResult> propose, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ChangeTimeout);
        try
        {
            while (true)
            {
                var (result, index) = await facade.Host.InvokeAsync(node => (propose(node), node.MembershipIndex), timeout.Token).ConfigureAwait(false);
                switch (result)
                {
                    case MembershipChangeResult.Accepted:
                        while (facade.Host.Status.CommitIndex < index)
                        {
                            await Task.Delay(options.PollInterval, timeout.Token).ConfigureAwait(false);
                        }
                        return;
                    case MembershipChangeResult.ChangeInProgress:
                        await Task.Delay(options.PollInterval, timeout.Token).ConfigureAwait(false);
                        break;
                    case MembershipChangeResult.NotLeader:
                        throw NoLeader;
                    case MembershipChangeResult.UnknownMember:
                        throw MemberNotFound;
                    case MembershipChangeResult.AlreadyMember:
                        throw new RpcException(RpcStatus.FailedPrecondition, "etcdserver: member ID already exist");
                    default:
                        throw NotEnoughStarted; // the last voter cannot go
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut;
        }
    }

    /// <summary>On a member that does not lead: checks the caller's permission (when asked), then passes the call on to
    /// the leader and returns its answer. On the leader: checks the permission and returns null.</summary>
    private async Task<TResponse?> ForwardAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, ServerCallContext context, bool checkPermission)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        if (checkPermission)
        {
            await facade.Auth.ThrowUnlessAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        }
        var leader = await WaitForLeaderAsync(context.CancellationToken).ConfigureAwait(false);
        if (leader == facade.MemberId)
        {
            return null;
        }
        var address = directory.PeerUrlOf(leader) ?? throw NoLeader;
        var channel = facade.Peers.Shared(address); // kept: every forward to the leader reuses one connection
        try
        {
            return await channel.UnaryAsync(method, request, new CallOptions(Deadline: DateTime.UtcNow + options.ChangeTimeout, CancellationToken: context.CancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode is RpcStatus.Unavailable && e.Status.Detail.StartsWith("etcdserver:", StringComparison.Ordinal) is false)
        {
            throw NoLeader; // the leader could not be reached
        }
    }

    private async Task<ulong> WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ChangeTimeout);
        try
        {
            while (facade.Host.Status.LeaderId == 0)
            {
                await Task.Delay(options.PollInterval, timeout.Token).ConfigureAwait(false);
            }
            return facade.Host.Status.LeaderId;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw NoLeader;
        }
    }

    /// <summary>Transfers leadership to the most up-to-date other voter and waits until someone else leads.</summary>
    private async Task HandOverLeadershipAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ChangeTimeout);
        try
        {
            var target = directory.Membership.Voters.First(v => v != facade.MemberId);
            while (facade.Host.Status.LeaderId == facade.MemberId)
            {
                await facade.Host.InvokeAsync(node => node.TransferLeadership(target), timeout.Token).ConfigureAwait(false);
                await Task.Delay(options.PollInterval, timeout.Token).ConfigureAwait(false);
            }
            log($"handed leadership over before removing this member");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut;
        }
    }

    private static List<ClusterMember> MembersOf(CurpNode node)
    {
        var snapshot = new MemberDirectory(node.Members);
        return [.. snapshot.Members];
    }

    /// <summary>etcd's IsReadyToAddVotingMember: after the addition, the started voters still make a quorum (or the
    /// cluster has one member, which may always grow to two).</summary>
    private static bool IsReadyToAddVoter(List<ClusterMember> members)
    {
        var voters = members.Where(m => !m.IsLearner).ToList();
        var started = voters.Count(m => m.Attributes.IsStarted);
        var size = voters.Count + 1;
        return (started == 1 && size == 2) || started >= (size / 2) + 1;
    }

    /// <summary>etcd's IsReadyToRemoveVotingMember: the started voters other than the one removed make a quorum of
    /// the remaining voters.</summary>
    private static bool IsReadyToRemoveVoter(List<ClusterMember> members, ulong removed)
    {
        var remaining = members.Where(m => !m.IsLearner && m.Id != removed).ToList();
        return remaining.Count(m => m.Attributes.IsStarted) >= (remaining.Count / 2) + 1;
    }

    /// <summary>etcd's IsReadyToPromoteMember: the learner counts as a started voter.</summary>
    private static bool IsReadyToPromote(List<ClusterMember> members)
    {
        var voters = members.Where(m => !m.IsLearner).ToList();
        var size = voters.Count + 1;
        return 1 + voters.Count(m => m.Attributes.IsStarted) >= (size / 2) + 1;
    }

    /// <summary>etcd's isConnectedFullySince: the leader has heard from every voter lately.</summary>
    private static bool HearsAllVoters(CurpNode node)
    {
        var heard = node.RecentlyHeardMembers();
        return node.Members.Voters.All(heard.Contains);
    }

    private static string[] ValidUrls(IEnumerable<string> urls)
    {
        var list = urls.ToArray();
        if (list.Length == 0)
        {
            throw BadUrls;
        }
        foreach (var url in list)
        {
            // etcd's types.NewURLs: http(s) or unix(s), a host with a port, no path.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https" or "unix" or "unixs")
                || !HasPort(url) || parsed.AbsolutePath.Length > 1)
            {
                throw BadUrls;
            }
        }
        return list;
    }

    private static bool HasPort(string url)
    {
        var authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..].Split('/')[0];
        var colon = authority.LastIndexOf(':');
        return colon > 0 && colon > authority.LastIndexOf(']') && int.TryParse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out _);
    }

    /// <summary>etcd's header for Cluster answers: ids, term and the store's current revision (read on the loop, which
    /// owns the store).</summary>
    private async Task<Pb.ResponseHeader> HeaderAsync(CancellationToken cancellationToken) =>
        facade.Header(await facade.Host.InvokeAsync(_ => facade.Machine.Revision, cancellationToken).ConfigureAwait(false));

    private static IEnumerable<Pb.Member> ToProto(IEnumerable<ClusterMember> members) => members.Select(member =>
    {
        var proto = new Pb.Member { ID = member.Id, Name = member.Attributes.Name, IsLearner = member.IsLearner };
        proto.PeerURLs.AddRange(member.Attributes.PeerUrls);
        proto.ClientURLs.AddRange(member.Attributes.ClientUrls);
        return proto;
    });
}

/// <summary>Bounds of the Cluster service's waits.</summary>
public sealed record ClusterServiceOptions
{
    /// <summary>How long a change may take from the call to its commit (etcd bounds it by the request's deadline).</summary>
    public TimeSpan ChangeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the service looks whether a change committed, a leader exists, or a transfer finished.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>etcd's <c>--strict-reconfig-check</c> (on by default): refuse a change that would leave too few started
    /// voters for a quorum, or that comes while the leader does not hear every voter. Off, only the learner's sync
    /// check and the core's own limits remain, as in etcd.</summary>
    public bool StrictReconfigCheck { get; init; } = true;

    /// <summary>etcd's maxLearners: at most one learner at a time.</summary>
    public int MaxLearners { get; init; } = 1;
}
