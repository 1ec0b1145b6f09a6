namespace CurpStore.GeoSim;

/// <summary>A topology file (or programmatic topology) is malformed or lacks what a run needs.</summary>
/// <remarks>
/// Carries the file and the field in JSON terms (for example <c>latencies[2].b</c>) because the
/// person fixing it is editing that file, not reading the simulator's code.
/// </remarks>
public sealed class TopologyException : Exception
{
    /// <summary>Creates the exception; the message reads "<c>file: field: problem</c>".</summary>
    public TopologyException(string topologySource, string field, string problem, Exception? inner = null)
        : base($"{topologySource}: {field}: {problem}", inner)
    {
        TopologySource = topologySource;
        Field = field;
        Problem = problem;
    }

    /// <summary>The file path (or name) of the topology.</summary>
    public string TopologySource { get; }

    /// <summary>The offending field, spelled as in the JSON file.</summary>
    public string Field { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
