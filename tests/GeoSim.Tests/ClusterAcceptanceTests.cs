using System.Text.Json;
using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;

namespace CurpStore.GeoSim.Tests;

/// <summary>What issue 2 asks the simulator to show, run against the real core.</summary>
[TestClass]
public sealed class ClusterAcceptanceTests
{
    private static SimRunResult Run(Topology topology, SimOptions options) => new SimCluster(options, topology).Run();

    [TestMethod]
    public void SameSeed_GivesTheSameTraceHash_FromTheCommandLine_TwiceInARow()
    {
        string[] args = ["--topology", TestTopologies.PathOf("three-regions.json"), "--nodes", "3", "--clients", "8", "--seconds", "5", "--seed", "42", "--faults", "all", "--json"];
        var first = JsonDocument.Parse(RunCommandLine(args)).RootElement.GetProperty("trace_hash").GetString();
        var second = JsonDocument.Parse(RunCommandLine(args)).RootElement.GetProperty("trace_hash").GetString();
        args[Array.IndexOf(args, "42")] = "43";
        var other = JsonDocument.Parse(RunCommandLine(args)).RootElement.GetProperty("trace_hash").GetString();
        Assert.IsFalse(string.IsNullOrEmpty(first));
        Assert.AreEqual(first, second);
        Assert.AreNotEqual(first, other, "another seed must give another schedule");
    }

    [TestMethod]
    public void ZeroConflicts_FiveRegions_EveryRegionWithinTenPercentOfTheFloor_AndFastWhereFastIsFaster()
    {
        var topology = TestTopologies.FiveRegions();
        var options = new SimOptions { Nodes = 5, Clients = 64, Conflict = 0, Seconds = 20, Seed = 42 };
        var result = Run(topology, options);
        Assert.AreEqual(0, result.Violations, string.Join("; ", result.DescribeViolations()));
        var report = RunReporter.Build(result, topology);
        foreach (var region in report.Regions)
        {
            var floor = QuorumFloor.Compute(topology, 5, region.Region);
            Assert.IsTrue(region.Count > 100, $"{region.Region}: too few writes to judge");
            Assert.IsTrue(region.P50Ms <= floor.FloorMs * 1.10, $"{region.Region}: median {region.P50Ms} ms above 1.1 x floor {floor.FloorMs} ms");
            // Where the super-quorum round trip beats both the slow path and commit notices by more than the jitter,
            // the fast path must be what completes the writes.
            if (floor.FastMs + 2 < Math.Min(floor.SlowMs, floor.CommitNoticeMs))
            {
                Assert.IsTrue(region.FastPathRatio >= 0.99, $"{region.Region}: fast-path ratio {region.FastPathRatio:P1}");
            }
        }
    }

    [TestMethod]
    public void AllConflicts_EveryWriteTakesTheSlowPath_AndNoneIsLost()
    {
        var result = Run(TestTopologies.FiveRegions(), new SimOptions { Nodes = 5, Clients = 32, Conflict = 1, Seconds = 10, Seed = 7 });
        Assert.AreEqual(0, result.Violations, string.Join("; ", result.DescribeViolations()));
        Assert.IsTrue(result.Writes.Count > 500);
        Assert.AreEqual(0, result.Writes.Count(w => w.Path == CompletionPath.Fast), "a write on the one hot key completed on the fast path");
        Assert.AreEqual(0, result.LostAcknowledgedWrites);
    }

    [TestMethod]
    [DataRow("three-regions.json", 3)]
    [DataRow("five-regions.json", 5)]
    public void Curp_HasALowerMedianThanRaft_ForEveryClientRegionAwayFromTheLeader(string topologyFile, int nodes)
    {
        var topology = TopologyLoader.Load(TestTopologies.PathOf(topologyFile));
        var options = new SimOptions { Nodes = nodes, Clients = 32, Seconds = 15, Seed = 11 };
        var curp = RunReporter.Build(Run(topology, options), topology);
        var raft = RunReporter.Build(Run(topology, options with { Mode = ProtocolMode.Raft }), topology);
        foreach (var region in topology.ClientRegions.Where(r => r != topology.LeaderRegion))
        {
            var curpMedian = curp.Regions.Single(r => r.Region == region).P50Ms!.Value;
            var raftMedian = raft.Regions.Single(r => r.Region == region).P50Ms!.Value;
            Assert.IsTrue(curpMedian < raftMedian, $"{region}: curp {curpMedian} ms, raft {raftMedian} ms");
        }
    }

    [TestMethod]
    [DataRow(3, 300UL, 1_000UL)]
    [DataRow(5, 200UL, 2_000UL)]
    [DataRow(7, 60UL, 3_000UL)]
    public void SeedSweep_WithCrashesPartitionsAndLeaderChanges_FindsNoViolation(int nodes, ulong seeds, ulong firstSeed)
    {
        var options = new SimOptions { Nodes = nodes, Clients = 8, Seconds = 12, Seed = firstSeed, Faults = FaultMode.All, Conflict = 0.2 };
        var summary = SeedSweep.Run(options, TestTopologies.ThreeRegions(), (int)seeds, Console.Out);
        Console.WriteLine(summary.Describe());
        Assert.AreEqual(0, summary.FailingSeeds.Count, $"failing seeds (replay each with --seed): {string.Join(' ', summary.FailingSeeds)}");
        Assert.AreEqual(0, summary.EffectsViolations);
        Assert.AreEqual(0, summary.DivergentReplicas);
        Assert.AreEqual(0, summary.DuplicateApplies);
        Assert.AreEqual(0, summary.LostAcknowledgedWrites);
        Assert.IsTrue(summary.LeaderCrashes > (long)seeds, "the sweep must actually crash leaders");
        Assert.IsTrue(summary.Partitions > (long)seeds, "the sweep must actually partition");
    }

    [TestMethod]
    public void StrictMode_SeedSweepWithFaults_HasNoStrictViolationsAndNoResequencing()
    {
        var options = new SimOptions { Nodes = 3, Clients = 8, Seconds = 12, Seed = 5_000, Faults = FaultMode.All, Conflict = 0.2, Strict = true };
        var summary = SeedSweep.Run(options, TestTopologies.ThreeRegions(), 100, Console.Out);
        Console.WriteLine(summary.Describe());
        Assert.AreEqual(0, summary.FailingSeeds.Count, $"failing seeds: {string.Join(' ', summary.FailingSeeds)}");
        Assert.AreEqual(0, summary.StrictViolations);
        Assert.AreEqual(0, summary.ResequencedRevisions);
        Assert.IsTrue(summary.LeaderCrashes > 0);
    }

    [TestMethod]
    [DataRow(MachineKind.Etcd)]
    [DataRow(MachineKind.Kv)]
    public void BothStateMachines_PassEveryCheck_UnderFaults(MachineKind machine)
    {
        var options = new SimOptions { Nodes = 3, Clients = 8, Seconds = 10, Seed = 7_000, Faults = FaultMode.All, Conflict = 0.3, Machine = machine };
        var summary = SeedSweep.Run(options, TestTopologies.ThreeRegions(), 30, Console.Out);
        Assert.AreEqual(0, summary.FailingSeeds.Count, $"{machine}: failing seeds {string.Join(' ', summary.FailingSeeds)}");
        Assert.IsTrue(summary.Operations > 3_000 && summary.LeaderCrashes > 0);
    }

    [TestMethod]
    public void WithoutLeaderChanges_NoRevisionIsResequenced()
    {
        var options = new SimOptions { Nodes = 5, Clients = 16, Seconds = 10, Seed = 6_000, Conflict = 0.3 };
        var summary = SeedSweep.Run(options, TestTopologies.FiveRegions(), 5);
        Assert.AreEqual(0, summary.LeaderChanges);
        Assert.AreEqual(0, summary.ResequencedRevisions);
        Assert.AreEqual(0, summary.StrictViolations, "with no leader change the default mode meets the strict model too");
        Assert.IsTrue(summary.Operations > 1_000);
    }

    private static string RunCommandLine(string[] args)
    {
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            var exitCode = Program.Main(args);
            Assert.AreEqual(0, exitCode, captured.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
        return captured.ToString();
    }
}
