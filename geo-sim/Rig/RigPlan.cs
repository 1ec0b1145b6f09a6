using System.Globalization;
using System.Net;
using CurpStore.GeoSim;

namespace CurpStore.Rig;

/// <summary>An endpoint of the rig: a member or the clients of one region, each in a network namespace of its own
/// with one address on the rig's bridge.</summary>
/// <param name="Name">"m1".."mN" for members, "client-REGION" for a region's clients.</param>
/// <param name="Region">Where the topology puts it.</param>
/// <param name="IsMember">A member (runs a server) rather than a client namespace.</param>
/// <param name="Namespace">Its network namespace (named after the run, so clean-up finds it).</param>
/// <param name="HostInterface">The root-namespace end of its veth pair.</param>
/// <param name="Address">Its address on the bridge.</param>
public sealed record RigNode(string Name, string Region, bool IsMember, string Namespace, string HostInterface, IPAddress Address);

/// <summary>Names, addresses and delays of one rig run, computed from a topology before anything is created.</summary>
public sealed class RigPlan
{
    /// <summary>Where members serve etcd clients (inside their namespace).</summary>
    public const int ClientPort = 2379;

    /// <summary>Where members talk to each other.</summary>
    public const int PeerPort = 2380;

    /// <summary>Where the rig's echo server listens in each member's namespace, for RTT probes.</summary>
    public const int EchoPort = 7070;

    /// <summary>Every run's names start with this, so a crashed run's leftovers can be found.</summary>
    public const string RunNamePrefix = "crig";

    private readonly Dictionary<string, RigNode> byName;

    private RigPlan(Topology topology, string runName, int subnetOctet, List<RigNode> members, List<RigNode> clients)
    {
        Topology = topology;
        RunName = runName;
        SubnetOctet = subnetOctet;
        Members = members;
        Clients = clients;
        byName = members.Concat(clients).ToDictionary(n => n.Name, StringComparer.Ordinal);
    }

    /// <summary>The topology the delays come from.</summary>
    public Topology Topology { get; }

    /// <summary>The run's name: a prefix of every namespace and interface it creates.</summary>
    public string RunName { get; }

    /// <summary>The third octet of the run's subnet 10.77.X.0/24.</summary>
    public int SubnetOctet { get; }

    /// <summary>The bridge joining every namespace, in the root namespace.</summary>
    public string BridgeName => RunName + "br";

    /// <summary>The bridge's address, where the link proxies listen.</summary>
    public IPAddress BridgeAddress => Address(1);

    /// <summary>Members in placement order.</summary>
    public IReadOnlyList<RigNode> Members { get; }

    /// <summary>One client namespace per client region.</summary>
    public IReadOnlyList<RigNode> Clients { get; }

    /// <summary>Members then clients.</summary>
    public IEnumerable<RigNode> Nodes => Members.Concat(Clients);

    /// <summary>Every directed link that gets proxies: from each node to each other member.</summary>
    public IEnumerable<(RigNode From, RigNode To)> Links =>
        Nodes.SelectMany(from => Members.Where(to => to != from).Select(to => (from, to)));

    /// <summary>Lays out a run of <paramref name="memberCount"/> members placed as the topology says, with client
    /// namespaces in <paramref name="clientRegions"/> (null: the topology's client regions).</summary>
    /// <exception cref="TopologyException">The topology has no placement for that many members.</exception>
    /// <exception cref="RigException">An unknown client region.</exception>
    public static RigPlan Create(Topology topology, int memberCount, IReadOnlyList<string>? clientRegions, string runName, int subnetOctet)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memberCount, 80);
        var placement = topology.PlacementFor(memberCount);
        var members = new List<RigNode>();
        for (var i = 0; i < placement.Count; i++)
        {
            var name = $"m{i + 1}";
            members.Add(new RigNode(name, placement[i], IsMember: true, $"{runName}-{name}", $"{runName}m{i + 1}", Address(subnetOctet, 10 + i + 1)));
        }
        var clients = new List<RigNode>();
        var regions = clientRegions ?? topology.ClientRegions;
        for (var r = 0; r < regions.Count; r++)
        {
            if (!topology.HasRegion(regions[r]))
            {
                throw new RigException($"unknown client region \"{regions[r]}\" (regions: {string.Join(", ", topology.Regions)})");
            }
            var name = $"client-{regions[r]}";
            clients.Add(new RigNode(name, regions[r], IsMember: false, $"{runName}-{name}", $"{runName}c{r}", Address(subnetOctet, 100 + r)));
        }
        return new RigPlan(topology, runName, subnetOctet, members, clients);
    }

    /// <summary>A fresh run name: the prefix and four hex digits (interface names have at most 15 characters).</summary>
    public static string NewRunName() => RunNamePrefix + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);

    /// <summary>The node called <paramref name="name"/>: a member ("m2"), a client namespace ("client-eu-west") or,
    /// for a region name, that region's client namespace.</summary>
    /// <exception cref="RigException">No such node.</exception>
    public RigNode Node(string name)
    {
        if (byName.TryGetValue(name, out var node) || byName.TryGetValue("client-" + name, out node))
        {
            return node;
        }
        throw new RigException($"no node \"{name}\" (nodes: {string.Join(", ", byName.Keys)})");
    }

    /// <summary>The delay of the link between two nodes, from the topology.</summary>
    public LinkDelay DelayBetween(RigNode from, RigNode to) =>
        new(Topology.OneWayMs(from.Region, to.Region), Topology.JitterMeanMs);

    /// <summary>The members' <c>--initial-cluster</c> value.</summary>
    public string InitialCluster => string.Join(',', Members.Select(m => $"{m.Name}={PeerUrl(m)}"));

    /// <summary>A member's peer URL, the same for every other member.</summary>
    public static string PeerUrl(RigNode member) => $"http://{member.Address}:{PeerPort}";

    /// <summary>A member's client URL, the same for every client region.</summary>
    public static string ClientUrl(RigNode member) => $"http://{member.Address}:{ClientPort}";

    private static IPAddress Address(int subnetOctet, int host) => new([10, 77, (byte)subnetOctet, (byte)host]);

    private IPAddress Address(int host) => Address(SubnetOctet, host);
}
