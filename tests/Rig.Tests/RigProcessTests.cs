using System.Diagnostics;
using CurpStore.GeoSim;

namespace CurpStore.Rig.Tests;

/// <summary>The rig on real processes: namespaces, DNAT, proxies and a CurpStore or etcd cluster. Needs root, iproute2 and
/// iptables (.ci/run installs iptables); without them it fails and says so.</summary>
[TestClass]
public sealed class RigProcessTests
{
    private const double AllowedDifferenceMs = 2;

    private static Topology ThreeRegions() =>
        TopologyLoader.Load(Path.Combine(AppContext.BaseDirectory, "topologies", "three-regions.json"));

    private static async Task<(int ExitCode, string Output)> ExecAsync(RigRun rig, string node, params string[] command)
    {
        var info = rig.ExecStartInfo(node, command);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.Environment["ETCDCTL_API"] = "3";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output + await error);
    }

    private static async Task<string> EtcdctlUntilItSucceedsAsync(RigRun rig, string node, params string[] arguments)
    {
        var last = "";
        for (var attempt = 0; attempt < 60; attempt++)
        {
            var (exitCode, output) = await ExecAsync(rig, node, ["etcdctl", "--dial-timeout=3s", "--command-timeout=10s", .. arguments]);
            if (exitCode == 0)
            {
                return output;
            }
            last = output;
            await Task.Delay(500);
        }
        Assert.Fail($"etcdctl {string.Join(' ', arguments)} in {node} kept failing: {last}");
        return "";
    }

    [TestMethod]
    [DataRow("curpstore")]
    [DataRow("etcd", DisplayName = "etcd (Debian's etcd 3.4, unmodified, through the same rig)")]
    public async Task ThreeRegionCluster_RttMatrixMatchesTheTopology_WritesFromARegion_ACutMemberCatchesUpAfterHealing(string system)
    {
        await using var rig = await RigRun.StartAsync(new RigOptions
        {
            Topology = ThreeRegions(),
            System = system,
            StateDirectory = Path.Combine(Path.GetTempPath(), "curpstore-rig-tests"),
            DeleteRunDirectoryOnDispose = true,
        });
        Console.WriteLine(rig.Endpoints());
        await rig.WaitForMembersAsync(TimeSpan.FromSeconds(120));

        var rtt = await rig.MeasureRttAsync(samples: 41);
        Console.WriteLine(rtt.ToTable());
        Assert.AreEqual((3 * 2) + (3 * 3), rtt.Rows.Count, "each member to its 2 peers, each region's clients to all 3 members");
        foreach (var row in rtt.Rows)
        {
            Assert.IsTrue(Math.Abs(row.DifferenceMs) <= AllowedDifferenceMs, $"{row.From.Name}->{row.To.Name}: asked {row.AskedMedianMs:F2} ms, measured {row.MeasuredMedianMs:F2} ms\n{rtt.ToTable()}");
        }

        var endpoints = "--endpoints=" + string.Join(',', rig.Plan.Members.Select(RigPlan.ClientUrl));
        await EtcdctlUntilItSucceedsAsync(rig, "eu-west", endpoints, "put", "rig/a", "1");
        StringAssert.Contains(await EtcdctlUntilItSucceedsAsync(rig, "us-east", endpoints, "get", "rig/a"), "rig/a\n1");

        // ap-south's member is cut off: the other two go on; it cannot be reached from us-east.
        var apSouth = rig.Plan.Members.Single(m => m.Region == "ap-south");
        rig.CutRegion("ap-south");
        await EtcdctlUntilItSucceedsAsync(rig, "us-east", endpoints, "put", "rig/b", "2");
        var (exitCode, output) = await ExecAsync(rig, "us-east", "etcdctl", "--dial-timeout=2s", "--command-timeout=3s", "--endpoints=" + RigPlan.ClientUrl(apSouth), "get", "rig/a");
        Assert.AreNotEqual(0, exitCode, $"the cut member answered from us-east: {output}");
        StringAssert.Contains(rig.Status(), "cut");

        rig.HealRegion("ap-south");
        var serializable = await EtcdctlUntilItSucceedsAsync(rig, "us-east", "--endpoints=" + RigPlan.ClientUrl(apSouth), "get", "rig/b", "--consistency=s");
        for (var attempt = 0; attempt < 60 && !serializable.Contains("rig/b\n2", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(500);
            serializable = await EtcdctlUntilItSucceedsAsync(rig, "us-east", "--endpoints=" + RigPlan.ClientUrl(apSouth), "get", "rig/b", "--consistency=s");
        }
        StringAssert.Contains(serializable, "rig/b\n2", $"the healed member did not catch up:\n{rig.LogTail(apSouth.Name)}");
    }
}
