using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CurpStore.GeoSim;

/// <summary>Reads a <see cref="Topology"/> from a JSON region file (snake_case field names).</summary>
/// <remarks>
/// <para>The format (see <c>geo-sim/topologies/</c>):</para>
/// <code>
/// {
///   "description": "optional free text",
///   "regions": ["us-east", "eu-west", "ap-south"],
///   "intra_region_one_way_ms": 0.5,
///   "jitter_mean_ms": 1,
///   "latencies": [ { "a": "us-east", "b": "eu-west", "one_way_ms": 40 }, ... ],
///   "placement": { "3": ["us-east", "eu-west", "ap-south"], "5": [ ... ] },
///   "leader_region": "us-east",
///   "client_regions": ["us-east", "eu-west"]      (optional, default: all regions)
/// }
/// </code>
/// <para>
/// Unknown fields are rejected, so a misspelt field name is an error rather than a silently
/// ignored setting. The same files are meant to drive the real-process WAN rig, so both see
/// identical delays.
/// </para>
/// </remarks>
public static class TopologyLoader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Loads and validates the topology file at <paramref name="path"/>.</summary>
    /// <exception cref="TopologyException">The file is missing, is not valid JSON, or fails validation.</exception>
    public static Topology Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TopologyException(path, "(file)", $"cannot read topology file: {e.Message}", e);
        }

        return Parse(json, path);
    }

    /// <summary>Parses and validates topology JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="TopologyException">The JSON is malformed or fails validation.</exception>
    public static Topology Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        TopologyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TopologyFile>(json, Options);
        }
        catch (JsonException e)
        {
            throw new TopologyException(source, e.Path ?? "$", e.Message, e);
        }

        if (file is null)
        {
            throw new TopologyException(source, "$", "the file holds null instead of a topology object");
        }

        return ToTopology(file, source);
    }

    /// <summary>
    /// Finds a topology file given as on the command line: as given (relative to the working
    /// directory), then relative to the program's directory, then by file name in the
    /// <c>topologies/</c> folder copied next to the program.
    /// </summary>
    /// <remarks>
    /// The default path is written relative to the repository root; this lets the same default work
    /// when the simulator runs from its build output or from a test run.
    /// </remarks>
    /// <returns>The first candidate that exists, or <paramref name="path"/> unchanged (so loading reports it).</returns>
    public static string ResolvePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path) || Path.IsPathRooted(path))
        {
            return path;
        }

        string besideProgram = Path.Combine(AppContext.BaseDirectory, path);
        if (File.Exists(besideProgram))
        {
            return besideProgram;
        }

        string inTopologies = Path.Combine(AppContext.BaseDirectory, "topologies", Path.GetFileName(path));
        return File.Exists(inTopologies) ? inTopologies : path;
    }

    private static Topology ToTopology(TopologyFile file, string source)
    {
        var regions = file.Regions ?? throw new TopologyException(source, "regions", "is required");
        if (file.IntraRegionOneWayMs is not double intra)
        {
            throw new TopologyException(source, "intra_region_one_way_ms", "is required");
        }

        if (file.Latencies is null)
        {
            throw new TopologyException(source, "latencies", "is required");
        }

        var links = new List<RegionLink>(file.Latencies.Count);
        for (int i = 0; i < file.Latencies.Count; i++)
        {
            var entry = file.Latencies[i]
                ?? throw new TopologyException(source, $"latencies[{i}]", "entry is null");
            if (entry.OneWayMs is not double ms)
            {
                throw new TopologyException(source, $"latencies[{i}].one_way_ms", "is required");
            }

            links.Add(new RegionLink(entry.A ?? "", entry.B ?? "", ms));
        }

        if (file.Placement is null)
        {
            throw new TopologyException(source, "placement", "is required");
        }

        var placements = new Dictionary<int, IReadOnlyList<string>>();
        foreach (var (key, members) in file.Placement)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int size))
            {
                throw new TopologyException(source, $"placement[\"{key}\"]", "key must be a cluster size such as \"3\"");
            }

            if (!placements.TryAdd(size, members ?? []))
            {
                throw new TopologyException(source, $"placement[\"{key}\"]", $"cluster size {size} is given twice");
            }
        }

        if (string.IsNullOrEmpty(file.LeaderRegion))
        {
            throw new TopologyException(source, "leader_region", "is required");
        }

        return new Topology(
            source,
            regions,
            links,
            intra,
            file.JitterMeanMs ?? 0.0,
            placements,
            file.LeaderRegion,
            file.ClientRegions);
    }

    /// <summary>The file's shape; every field nullable so a missing one gets a named error.</summary>
    private sealed class TopologyFile
    {
        public string? Description { get; set; }

        public List<string>? Regions { get; set; }

        public double? IntraRegionOneWayMs { get; set; }

        public double? JitterMeanMs { get; set; }

        public List<LinkEntry?>? Latencies { get; set; }

        public Dictionary<string, List<string>?>? Placement { get; set; }

        public string? LeaderRegion { get; set; }

        public List<string>? ClientRegions { get; set; }
    }

    private sealed class LinkEntry
    {
        public string? A { get; set; }

        public string? B { get; set; }

        public double? OneWayMs { get; set; }
    }
}
