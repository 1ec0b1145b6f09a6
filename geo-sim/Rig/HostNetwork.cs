using System.Globalization;
using System.Text;

namespace CurpStore.Rig;

/// <summary>Creates and removes a run's bridge, namespaces, veth pairs and DNAT rules.</summary>
/// <remarks>
/// Each node's namespace has one veth into the run's bridge (root namespace) and one address. In node A's namespace a
/// DNAT rule per member B and port sends A's connections for B's address to the proxy of link A→B, which listens on
/// the bridge address and forwards to B's real address. So every member has one address that all others use, and
/// unmodified etcd or CurpStore gets exact per-pair delays.
/// </remarks>
internal static class HostNetwork
{
    /// <summary>Fails with a clear message unless this process can create namespaces and DNAT rules.</summary>
    /// <exception cref="RigException">Not root, or <c>ip</c> / <c>iptables-restore</c> missing.</exception>
    public static void CheckPrerequisites()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            throw new RigException("the WAN rig needs Linux and root: it creates network namespaces, veth pairs, a bridge and iptables DNAT rules");
        }
        foreach (var tool in new[] { "ip", "iptables-restore" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(directory => File.Exists(Path.Combine(directory, tool))))
            {
                throw new RigException($"the WAN rig needs {tool} on PATH: apt-get install -y iproute2 iptables (.ci/run does)");
            }
        }
    }

    /// <summary>A subnet octet no interface on this host uses yet.</summary>
    public static int FreeSubnetOctet()
    {
        var addresses = HostCommand.Run("ip", ["-4", "-o", "addr", "show"]);
        var routes = HostCommand.Run("ip", ["-4", "route", "show"]);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var octet = Random.Shared.Next(1, 250);
            var subnet = $"10.77.{octet.ToString(CultureInfo.InvariantCulture)}.";
            if (!addresses.Contains(subnet, StringComparison.Ordinal) && !routes.Contains(subnet, StringComparison.Ordinal))
            {
                return octet;
            }
        }
        throw new RigException("no free subnet 10.77.X.0/24 for the rig's bridge");
    }

    /// <summary>Creates the bridge and every node's namespace.</summary>
    public static void Create(RigPlan plan)
    {
        HostCommand.Run("ip", ["link", "add", plan.BridgeName, "type", "bridge"]);
        HostCommand.Run("ip", ["addr", "add", $"{plan.BridgeAddress}/24", "dev", plan.BridgeName]);
        HostCommand.Run("ip", ["link", "set", plan.BridgeName, "up"]);
        foreach (var node in plan.Nodes)
        {
            HostCommand.Run("ip", ["netns", "add", node.Namespace]);
            HostCommand.Run("ip", ["link", "add", node.HostInterface, "type", "veth", "peer", "name", "eth0", "netns", node.Namespace]);
            HostCommand.Run("ip", ["link", "set", node.HostInterface, "master", plan.BridgeName, "up"]);
            HostCommand.Run("ip", ["-n", node.Namespace, "addr", "add", $"{node.Address}/24", "dev", "eth0"]);
            HostCommand.Run("ip", ["-n", node.Namespace, "link", "set", "eth0", "up"]);
            HostCommand.Run("ip", ["-n", node.Namespace, "link", "set", "lo", "up"]);
        }
    }

    /// <summary>Installs one node's DNAT rules in one <c>iptables-restore</c> call.</summary>
    /// <param name="node">Whose namespace.</param>
    /// <param name="rules">Per rule: the member address and port the node connects to, and the proxy port on the
    /// bridge address that stands for that link.</param>
    /// <param name="bridgeAddress">Where the proxies listen.</param>
    public static void AddDnatRules(RigNode node, IEnumerable<(System.Net.IPAddress Address, int Port, int ProxyPort)> rules, System.Net.IPAddress bridgeAddress)
    {
        var script = new StringBuilder("*nat\n");
        foreach (var (address, port, proxyPort) in rules)
        {
            script.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {address}/32 -p tcp --dport {port} -j DNAT --to-destination {bridgeAddress}:{proxyPort}\n");
        }
        script.Append("COMMIT\n");
        HostCommand.Run("ip", ["netns", "exec", node.Namespace, "iptables-restore", "--noflush"], script.ToString());
    }

    /// <summary>Removes everything a run named <paramref name="runName"/> created: its namespaces (with their veth
    /// ends and rules) and any interface whose name starts with the run name. Idempotent, and works from the names
    /// alone, so it cleans up after a crashed run too.</summary>
    public static void Remove(string runName)
    {
        ArgumentException.ThrowIfNullOrEmpty(runName);
        foreach (var line in HostCommand.Run("ip", ["netns", "list"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (name.StartsWith(runName + "-", StringComparison.Ordinal))
            {
                HostCommand.RunIgnoringFailure("ip", "netns", "del", name);
            }
        }
        foreach (var line in HostCommand.Run("ip", ["-o", "link", "show"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "12: crig1a2bm1@if2: <...>" -> "crig1a2bm1"
            var parts = line.Split(':', 3);
            var name = parts.Length > 1 ? parts[1].Trim().Split('@')[0] : "";
            if (name.StartsWith(runName, StringComparison.Ordinal))
            {
                HostCommand.RunIgnoringFailure("ip", "link", "del", name);
            }
        }
    }
}
