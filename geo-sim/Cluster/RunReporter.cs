using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>Turns a run's measurements into the per-region report, next to the floor the topology allows.</summary>
public static class RunReporter
{
    public static SimReport Build(SimRunResult result, Topology topology)
    {
        var options = result.Options;
        var report = new SimReport
        {
            TraceHash = result.TraceHash,
            FastPathRatio = result.FastPathRatio,
            Violations = result.Violations,
            Seed = options.Seed,
            Mode = options.Mode,
            Nodes = options.Nodes,
        };
        var leaderRegion = options.LeaderRegion ?? topology.LeaderRegion;
        var placement = topology.PlacementFor(options.Nodes);
        foreach (var region in topology.ClientRegions)
        {
            var fast = new LatencySamples();
            var slow = new LatencySamples();
            for (var i = 0; i < result.Writes.Count; i++)
            {
                if (result.WriteRegions[i] == region)
                {
                    (result.Writes[i].Path == CompletionPath.Fast ? fast : slow).Add(result.Writes[i].LatencyMs);
                }
            }
            var floor = QuorumFloor.Compute(topology, options.Nodes, region, leaderRegion, placement);
            report.Regions.Add(RegionReport.From(region, fast, slow, floor.FloorMs));
        }
        var checks = report.Checks;
        checks["operations"] = result.Operations;
        checks["writes_acknowledged"] = result.Writes.Count;
        checks["effects_violations"] = result.EffectsCheck.Violations.Count;
        checks["strict_violations"] = result.StrictCheck.Violations.Count;
        checks["checker_unknown_keys"] = result.EffectsCheck.UnknownKeys.Count + result.StrictCheck.UnknownKeys.Count;
        checks["divergent_replicas"] = result.DivergentReplicas;
        checks["duplicate_applies"] = result.DuplicateApplies;
        checks["speculation_mismatches"] = result.SpeculationMismatches;
        checks["lost_acknowledged_writes"] = result.LostAcknowledgedWrites;
        checks["resequenced_revisions"] = result.ResequencedRevisions;
        checks["leader_crashes"] = result.LeaderCrashes;
        checks["crashes"] = result.Crashes;
        checks["partitions"] = result.Partitions;
        checks["converged"] = result.Converged ? 1 : 0;
        checks["recovered_commands"] = result.Members.Sum(m => m.Counters.RecoveredCommands);
        checks["snapshots_installed"] = result.Members.Sum(m => m.Counters.SnapshotsInstalled);
        checks["leader_elections"] = result.Members.Sum(m => m.Counters.LeaderElected);
        checks["leader_changes"] = result.LeaderChanges;
        checks["messages_delivered"] = result.MessagesDelivered;
        return report;
    }
}
