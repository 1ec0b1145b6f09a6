using System.Collections.Immutable;
using System.Text.Json;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Configuration;
using CurpStore.Server.Transport;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Members;

/// <summary>
/// Who this member is and which configuration its core starts from (the configuration in its log or snapshot, once
/// it has one, replaces it). A member of a new cluster computes everything from <c>--initial-cluster</c> as etcd does.
/// A member joining an existing cluster (<c>--initial-cluster-state existing</c>) asks the other members listed there
/// for the member list (etcd's GetClusterFromRemotePeers), finds itself by its peer URLs (it was added with them), and
/// keeps the answer in the data dir, so a restart starts from the same configuration without asking again.
/// </summary>
public sealed record MemberIdentity(ulong MemberId, ulong ClusterId, Membership Bootstrap)
{
    /// <summary>The file under the data dir that keeps a joined member's identity.</summary>
    public const string FileName = "member-identity.json";

    /// <summary>The identity of a member of a new cluster: ids hashed from <c>--initial-cluster</c> and the token; every
    /// initial member a voter with its name and peer URLs.</summary>
    public static MemberIdentity ForNewCluster(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var members = options.EffectiveInitialCluster
            .GroupBy(m => m.Name)
            .Select(g => (Id: MemberIds.MemberId(g.Select(m => m.PeerUrl), options.InitialClusterToken), Name: g.Key, PeerUrls: g.Select(m => MemberAttributes.Normalize(m.PeerUrl)).ToList()))
            .ToList();
        var self = members.Single(m => m.Name == options.Name);
        var bootstrap = Membership.Of(members.Select(m => m.Id)) with
        {
            Attributes = members.ToImmutableSortedDictionary(m => m.Id, m => new MemberAttributes(m.Name, m.PeerUrls, []).ToJson()),
        };
        return new MemberIdentity(self.Id, MemberIds.ClusterId(members.Select(m => m.Id)), bootstrap);
    }

    /// <summary>A joining member's identity: from its data dir after the first start, else from the members listed in
    /// <c>--initial-cluster</c> (retried until <paramref name="timeout"/>).</summary>
    /// <exception cref="IOException">No listed member answered with a member list that holds this member's peer
    /// URLs.</exception>
    public static async Task<MemberIdentity> ForExistingClusterAsync(ServerOptions options, PeerChannels peers, TimeSpan timeout, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(peers);
        var path = Path.Combine(options.DataDir, FileName);
        if (File.Exists(path))
        {
            return Read(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
        }
        var ownPeerUrls = options.InitialAdvertisePeerUrls.Select(MemberAttributes.Normalize).ToHashSet(StringComparer.Ordinal);
        var others = options.EffectiveInitialCluster.Where(m => m.Name != options.Name).Select(m => m.PeerUrl).Distinct().ToList();
        var deadline = DateTime.UtcNow + timeout;
        string? lastProblem = null;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var peer in others)
            {
                try
                {
                    var channel = peers.Shared(peer);
                    var list = await channel.UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest(),
                        new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(2), CancellationToken: cancellationToken)).ConfigureAwait(false);
                    var self = list.Members.FirstOrDefault(m => m.PeerURLs.Any(ownPeerUrls.Contains));
                    if (self is null)
                    {
                        lastProblem = $"{peer} lists no member with peer URLs {string.Join(',', ownPeerUrls)} (add it with MemberAdd first)";
                        continue;
                    }
                    var identity = new MemberIdentity(self.ID, list.Header.ClusterId, FromMemberList(list));
                    await File.WriteAllTextAsync(path, identity.ToJson(), cancellationToken).ConfigureAwait(false);
                    log($"joining cluster {identity.ClusterId:x16} as member {identity.MemberId:x16} (member list from {peer})");
                    return identity;
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    lastProblem = $"{peer}: {e.Message}";
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
        throw new IOException($"could not retrieve cluster information from the given URLs ({lastProblem ?? "no other member listed"})");
    }

    /// <summary>The configuration a member list describes: voters, learners and their attributes.</summary>
    public static Membership FromMemberList(Pb.MemberListResponse list)
    {
        ArgumentNullException.ThrowIfNull(list);
        return new Membership(
            list.Members.Where(m => !m.IsLearner).Select(m => m.ID).ToImmutableSortedSet(),
            list.Members.Where(m => m.IsLearner).Select(m => m.ID).ToImmutableSortedSet())
        {
            Attributes = list.Members.ToImmutableSortedDictionary(m => m.ID, m => new MemberAttributes(m.Name, [.. m.PeerURLs], [.. m.ClientURLs]).ToJson()),
        };
    }

    public string ToJson() => JsonSerializer.Serialize(new StoredIdentity(
        MemberId, ClusterId, [.. Bootstrap.Voters], [.. Bootstrap.Learners], Bootstrap.Attributes.ToDictionary(p => p.Key, p => p.Value)));

    public static MemberIdentity Read(string json)
    {
        var stored = JsonSerializer.Deserialize<StoredIdentity>(json) ?? throw new InvalidDataException($"{FileName} is empty");
        var bootstrap = new Membership([.. stored.Voters], [.. stored.Learners]) { Attributes = stored.Attributes.ToImmutableSortedDictionary() };
        return new MemberIdentity(stored.MemberId, stored.ClusterId, bootstrap);
    }

    private sealed record StoredIdentity(ulong MemberId, ulong ClusterId, ulong[] Voters, ulong[] Learners, Dictionary<ulong, string> Attributes);
}
