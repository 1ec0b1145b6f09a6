using System.Globalization;

namespace CurpStore.GeoSim.Cluster;

/// <summary>Runs consecutive seeds with the same options and adds up what they checked.</summary>
public static class SeedSweep
{
    public static SweepSummary Run(SimOptions options, Topology topology, int seeds, TextWriter? progress = null)
    {
        var summary = new SweepSummary();
        for (var i = 0; i < seeds; i++)
        {
            var seeded = options with { Seed = options.Seed + (ulong)i, Sweep = null };
            var result = new SimCluster(seeded, topology).Run();
            summary.Add(result);
            if (result.Violations > 0)
            {
                progress?.WriteLine($"seed {seeded.Seed} FAILED ({string.Join("; ", result.DescribeViolations().Take(3))}); replay: dotnet run --project geo-sim -- {seeded.ToCommandLine()}");
            }
        }
        return summary;
    }
}

public sealed class SweepSummary
{
    public List<ulong> FailingSeeds { get; } = [];

    public int Runs { get; private set; }

    public long Operations { get; private set; }

    public long EffectsViolations { get; private set; }

    public long StrictViolations { get; private set; }

    public long DivergentReplicas { get; private set; }

    public long DuplicateApplies { get; private set; }

    public long LostAcknowledgedWrites { get; private set; }

    public long LeaderCrashes { get; private set; }

    public long LeaderChanges { get; private set; }

    public long Crashes { get; private set; }

    public long Partitions { get; private set; }

    public long ResequencedRevisions { get; private set; }

    public long NotConverged { get; private set; }

    public void Add(SimRunResult result)
    {
        Runs++;
        Operations += result.Operations;
        EffectsViolations += result.EffectsCheck.Violations.Count + result.EffectsCheck.UnknownKeys.Count;
        StrictViolations += result.StrictCheck.Violations.Count;
        DivergentReplicas += result.DivergentReplicas;
        DuplicateApplies += result.DuplicateApplies;
        LostAcknowledgedWrites += result.LostAcknowledgedWrites;
        LeaderCrashes += result.LeaderCrashes;
        LeaderChanges += result.LeaderChanges;
        Crashes += result.Crashes;
        Partitions += result.Partitions;
        ResequencedRevisions += result.ResequencedRevisions;
        NotConverged += result.Converged ? 0 : 1;
        if (result.Violations > 0)
        {
            FailingSeeds.Add(result.Options.Seed);
        }
    }

    /// <summary>Re-sequenced revisions per thousand leader crashes (the strict model's measured cost of the fast path).</summary>
    public double ResequencedPerThousandLeaderCrashes => LeaderCrashes == 0 ? 0 : ResequencedRevisions * 1000.0 / LeaderCrashes;

    public double ResequencedPerThousandLeaderChanges => LeaderChanges == 0 ? 0 : ResequencedRevisions * 1000.0 / LeaderChanges;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"sweep: {Runs} seeds, {FailingSeeds.Count} failed{(FailingSeeds.Count > 0 ? $" (seeds {string.Join(' ', FailingSeeds)})" : "")}; "
        + $"{Operations} operations, {Crashes} crashes ({LeaderCrashes} of the leader), {Partitions} partitions; "
        + $"effects-only violations {EffectsViolations}, divergent replicas {DivergentReplicas}, duplicate applies {DuplicateApplies}, "
        + $"lost acknowledged writes {LostAcknowledgedWrites}, not converged {NotConverged}; "
        + $"strict-model violations {StrictViolations}, re-sequenced revisions {ResequencedRevisions} ({ResequencedPerThousandLeaderCrashes:F1} per 1000 leader crashes, {ResequencedPerThousandLeaderChanges:F1} per 1000 leader changes of {LeaderChanges})");
}
