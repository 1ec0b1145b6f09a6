using CurpStore.Checker;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>Everything one simulation run measured and checked.</summary>
public sealed record SimRunResult
{
    public required SimOptions Options { get; init; }

    public required string TraceHash { get; init; }

    public required bool Converged { get; init; }

    public string ConvergenceDetail { get; init; } = "";

    public required CheckResult EffectsCheck { get; init; }

    public required CheckResult StrictCheck { get; init; }

    public required int DivergentReplicas { get; init; }

    public required long DuplicateApplies { get; init; }

    public required long SpeculationMismatches { get; init; }

    public required int LostAcknowledgedWrites { get; init; }

    /// <summary>Acknowledged writes whose answered revision is not their final mod_revision.</summary>
    public required int ResequencedRevisions { get; init; }

    public required int LeaderCrashes { get; init; }

    /// <summary>Elections won after the first one: crashes and partitions that deposed a leader.</summary>
    public required long LeaderChanges { get; init; }

    public required int Crashes { get; init; }

    public required int Partitions { get; init; }

    public required IReadOnlyList<WriteSample> Writes { get; init; }

    /// <summary>The client region of each entry of <see cref="Writes"/>.</summary>
    public required IReadOnlyList<string> WriteRegions { get; init; }

    public required int Operations { get; init; }

    public required IReadOnlyList<(string Region, NodeCounters Counters)> Members { get; init; }

    public string? LeaderRegion { get; init; }

    public double VirtualSeconds { get; init; }

    public long MessagesDelivered { get; init; }

    /// <summary>Violations of the guarantees this run's mode claims: effects-only linearizability always; strict
    /// linearizability too in strict mode (and in raft mode, which answers only after commit).</summary>
    public int Violations =>
        EffectsCheck.Violations.Count + EffectsCheck.UnknownKeys.Count
        + (Options.Strict || Options.Mode == ProtocolMode.Raft ? StrictCheck.Violations.Count + StrictCheck.UnknownKeys.Count : 0)
        + DivergentReplicas + (int)DuplicateApplies + (int)SpeculationMismatches + LostAcknowledgedWrites + (Converged ? 0 : 1);

    public double FastPathRatio => Writes.Count == 0 ? 0 : Writes.Count(w => w.Path == CompletionPath.Fast) / (double)Writes.Count;

    public IEnumerable<string> DescribeViolations()
    {
        foreach (var v in EffectsCheck.Violations)
        {
            yield return $"effects-only: {v.Key}: {v.Description}";
        }
        foreach (var key in EffectsCheck.UnknownKeys)
        {
            yield return $"effects-only: search bound hit on key {key}";
        }
        if (Options.Strict || Options.Mode == ProtocolMode.Raft)
        {
            foreach (var v in StrictCheck.Violations)
            {
                yield return $"strict: {v.Key}: {v.Description}";
            }
        }
        if (DivergentReplicas > 0)
        {
            yield return $"{DivergentReplicas} divergent replica state(s) at equal applied index";
        }
        if (DuplicateApplies > 0)
        {
            yield return $"{DuplicateApplies} command(s) applied twice";
        }
        if (SpeculationMismatches > 0)
        {
            yield return $"{SpeculationMismatches} speculative result(s) differ from the applied result";
        }
        if (LostAcknowledgedWrites > 0)
        {
            yield return $"{LostAcknowledgedWrites} acknowledged write(s) missing from the final state";
        }
        if (!Converged)
        {
            yield return $"the cluster did not converge in the liveness phase: {ConvergenceDetail}";
        }
    }
}
