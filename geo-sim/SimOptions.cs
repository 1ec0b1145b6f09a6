using System.Globalization;
using System.Text;

namespace CurpStore.GeoSim;

/// <summary>What one simulator invocation should do, as parsed by <see cref="SimOptionsParser"/>.</summary>
/// <remarks>
/// Immutable, so a sweep can derive per-seed options with <c>with { Seed = … }</c> and a report can
/// print the exact command line that replays a run (<see cref="ToCommandLine"/>).
/// </remarks>
public sealed record SimOptions
{
    /// <summary>Default <see cref="TopologyPath"/>, relative to the repository root.</summary>
    public const string DefaultTopologyPath = "geo-sim/topologies/three-regions.json";

    /// <summary>Region file (<c>--topology</c>).</summary>
    public string TopologyPath { get; init; } = DefaultTopologyPath;

    /// <summary>Cluster size, 3, 5 or 7 (<c>--nodes</c>).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Concurrent simulated clients (<c>--clients</c>).</summary>
    public int Clients { get; init; } = 16;

    /// <summary>Probability in [0, 1] that a write touches a key shared with others, forcing the slow path (<c>--conflict</c>).</summary>
    public double Conflict { get; init; }

    /// <summary>Virtual seconds of workload (<c>--seconds</c>).</summary>
    public int Seconds { get; init; } = 30;

    /// <summary>Root seed; the run is a function of it (<c>--seed</c>).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Faults injected in the safety phase (<c>--faults</c>).</summary>
    public FaultMode Faults { get; init; } = FaultMode.None;

    /// <summary>Write path (<c>--mode</c>).</summary>
    public ProtocolMode Mode { get; init; } = ProtocolMode.Curp;

    /// <summary>Print the report as one JSON object instead of a table (<c>--json</c>).</summary>
    public bool Json { get; init; }

    /// <summary>Preferred leader region; null means the topology's <c>leader_region</c> (<c>--leader-region</c>).</summary>
    public string? LeaderRegion { get; init; }

    /// <summary>Check strict linearizability rather than effects only (<c>--strict</c>).</summary>
    public bool Strict { get; init; }

    /// <summary>The replicated state machine (<c>--machine</c>): the etcd store on its in-memory engine, or the small KV
    /// model the simulator started with.</summary>
    public MachineKind Machine { get; init; } = MachineKind.Etcd;

    /// <summary>Run this many consecutive seeds starting at <see cref="Seed"/>; null for a single run (<c>--sweep</c>).</summary>
    public int? Sweep { get; init; }

    /// <summary>The user asked for usage text (<c>--help</c>, <c>-h</c>).</summary>
    public bool Help { get; init; }

    /// <summary>Flags that reproduce these options exactly (printed with every run so a seed can be replayed).</summary>
    public string ToCommandLine()
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture,
            $"--topology {Quote(TopologyPath)} --nodes {Nodes} --clients {Clients} --conflict {Conflict.ToString("R", CultureInfo.InvariantCulture)} ");
        line.Append(CultureInfo.InvariantCulture,
            $"--seconds {Seconds} --seed {Seed} --faults {SimOptionsParser.Name(Faults)} --mode {SimOptionsParser.Name(Mode)}");
        line.Append(CultureInfo.InvariantCulture, $" --machine {SimOptionsParser.Name(Machine)}");
        if (LeaderRegion is not null)
        {
            line.Append(CultureInfo.InvariantCulture, $" --leader-region {Quote(LeaderRegion)}");
        }

        if (Strict)
        {
            line.Append(" --strict");
        }

        if (Sweep is int sweep)
        {
            line.Append(CultureInfo.InvariantCulture, $" --sweep {sweep}");
        }

        if (Json)
        {
            line.Append(" --json");
        }

        return line.ToString();
    }

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c == '"') ? value : $"\"{value.Replace("\"", "\\\"")}\"";
}
