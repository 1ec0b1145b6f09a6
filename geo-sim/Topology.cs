using System.Globalization;

namespace CurpStore.GeoSim;

/// <summary>
/// Where things are in a simulated wide-area deployment: the regions, the one-way delay between
/// every pair of them, where the members of an n-node cluster sit, the preferred leader's region
/// and the regions clients run in.
/// </summary>
/// <remarks>
/// <para>
/// CURP's whole point is latency across regions, so every latency figure the simulator produces
/// comes from this matrix. It is validated completely when built (unknown region, missing pair,
/// negative delay…) so that a typo in a file fails at load with the file and field named,
/// instead of surfacing as a strange latency distribution minutes into a run.
/// </para>
/// <para>
/// Field names in errors are the JSON (snake_case) names, because files are the usual source;
/// see <see cref="TopologyLoader"/>.
/// </para>
/// </remarks>
public sealed class Topology
{
    private readonly Dictionary<string, int> _regionIndex;
    private readonly double[,] _oneWayMs;
    private readonly SortedDictionary<int, IReadOnlyList<string>> _placements;

    /// <summary>Builds and validates a topology.</summary>
    /// <param name="source">File path or name used in error messages.</param>
    /// <param name="regions">Region names, unique.</param>
    /// <param name="links">One-way delay for every unordered pair of distinct regions.</param>
    /// <param name="intraRegionOneWayMs">One-way delay between two endpoints in the same region.</param>
    /// <param name="jitterMeanMs">Mean of the exponential tail added to each delivery.</param>
    /// <param name="placements">Member regions per cluster size; the list for n has n entries.</param>
    /// <param name="leaderRegion">Region of the preferred leader; must hold a member in every placement.</param>
    /// <param name="clientRegions">Regions clients run in; null means all regions.</param>
    /// <exception cref="TopologyException">Anything is missing or inconsistent.</exception>
    public Topology(
        string source,
        IReadOnlyList<string> regions,
        IReadOnlyList<RegionLink> links,
        double intraRegionOneWayMs,
        double jitterMeanMs,
        IReadOnlyDictionary<int, IReadOnlyList<string>> placements,
        string leaderRegion,
        IReadOnlyList<string>? clientRegions = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;

        Regions = ValidateRegions(regions);
        _regionIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Regions.Count; i++)
        {
            _regionIndex[Regions[i]] = i;
        }

        IntraRegionOneWayMs = ValidateDelay(intraRegionOneWayMs, "intra_region_one_way_ms");
        JitterMeanMs = ValidateDelay(jitterMeanMs, "jitter_mean_ms");
        _oneWayMs = BuildMatrix(links);

        RequireKnown(leaderRegion, "leader_region");
        LeaderRegion = leaderRegion;

        _placements = ValidatePlacements(placements);
        ClientRegions = ValidateClientRegions(clientRegions);
    }

    /// <summary>File path or name the topology came from.</summary>
    public string Source { get; }

    /// <summary>Region names in file order.</summary>
    public IReadOnlyList<string> Regions { get; }

    /// <summary>One-way delay in ms between two endpoints in the same region.</summary>
    public double IntraRegionOneWayMs { get; }

    /// <summary>Mean in ms of the exponential jitter added to every delivery.</summary>
    public double JitterMeanMs { get; }

    /// <summary>Region of the default preferred leader.</summary>
    public string LeaderRegion { get; }

    /// <summary>Regions clients run in (all regions unless the file narrows them).</summary>
    public IReadOnlyList<string> ClientRegions { get; }

    /// <summary>Member regions keyed by cluster size.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<string>> Placements => _placements;

    /// <summary>Whether <paramref name="region"/> is one of <see cref="Regions"/>.</summary>
    public bool HasRegion(string region) => _regionIndex.ContainsKey(region);

    /// <summary>Position of <paramref name="region"/> in <see cref="Regions"/> (for array-indexed hot paths).</summary>
    /// <exception cref="ArgumentException">Unknown region.</exception>
    public int IndexOf(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (!_regionIndex.TryGetValue(region, out int index))
        {
            throw new ArgumentException(
                $"{Source}: unknown region \"{region}\" (regions: {string.Join(", ", Regions)})", nameof(region));
        }

        return index;
    }

    /// <summary>Minimum one-way delay in ms between two regions (the intra-region value when they are equal).</summary>
    public double OneWayMs(string regionA, string regionB) => _oneWayMs[IndexOf(regionA), IndexOf(regionB)];

    /// <summary>Same as <see cref="OneWayMs(string, string)"/> by region index.</summary>
    public double OneWayMs(int regionA, int regionB) => _oneWayMs[regionA, regionB];

    /// <summary>Member regions for an n-node cluster, one entry per member.</summary>
    /// <exception cref="TopologyException">The file has no placement for that size.</exception>
    public IReadOnlyList<string> PlacementFor(int clusterSize)
    {
        if (_placements.TryGetValue(clusterSize, out var members))
        {
            return members;
        }

        throw Error(
            $"placement[\"{clusterSize.ToString(CultureInfo.InvariantCulture)}\"]",
            $"no placement for a {clusterSize}-node cluster (the file has: {string.Join(", ", _placements.Keys)})");
    }

    private TopologyException Error(string field, string problem) => new(Source, field, problem);

    private void RequireKnown(string? region, string field)
    {
        if (string.IsNullOrEmpty(region))
        {
            throw Error(field, "region name is missing");
        }

        if (!_regionIndex.ContainsKey(region))
        {
            throw Error(field, $"unknown region \"{region}\" (regions: {string.Join(", ", Regions)})");
        }
    }

    private string[] ValidateRegions(IReadOnlyList<string> regions)
    {
        if (regions is null || regions.Count == 0)
        {
            throw Error("regions", "must list at least one region");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < regions.Count; i++)
        {
            string region = regions[i];
            if (string.IsNullOrWhiteSpace(region))
            {
                throw Error($"regions[{i}]", "region name is empty");
            }

            if (!seen.Add(region))
            {
                throw Error($"regions[{i}]", $"\"{region}\" is listed twice");
            }
        }

        return [.. regions];
    }

    private double ValidateDelay(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw Error(field, $"must be a finite number >= 0 ms, got {value.ToString(CultureInfo.InvariantCulture)}");
        }

        return value;
    }

    private double[,] BuildMatrix(IReadOnlyList<RegionLink> links)
    {
        int n = Regions.Count;
        var matrix = new double[n, n];
        var givenBy = new int[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                matrix[i, j] = i == j ? IntraRegionOneWayMs : double.NaN;
                givenBy[i, j] = -1;
            }
        }

        links ??= [];
        for (int k = 0; k < links.Count; k++)
        {
            string field = $"latencies[{k}]";
            RegionLink link = links[k] ?? throw Error(field, "entry is null");
            RequireKnown(link.A, $"{field}.a");
            RequireKnown(link.B, $"{field}.b");
            int a = _regionIndex[link.A];
            int b = _regionIndex[link.B];
            if (a == b)
            {
                throw Error(field, $"links \"{link.A}\" to itself; same-region delay is intra_region_one_way_ms");
            }

            double ms = ValidateDelay(link.OneWayMs, $"{field}.one_way_ms");
            if (givenBy[a, b] >= 0)
            {
                if (matrix[a, b] != ms)
                {
                    throw Error(
                        $"{field}.one_way_ms",
                        $"asymmetric: {link.A} <-> {link.B} is {ms.ToString(CultureInfo.InvariantCulture)} ms here but " +
                        $"{matrix[a, b].ToString(CultureInfo.InvariantCulture)} ms in latencies[{givenBy[a, b]}]; " +
                        "a link has one delay both ways");
                }

                continue;
            }

            matrix[a, b] = ms;
            matrix[b, a] = ms;
            givenBy[a, b] = k;
            givenBy[b, a] = k;
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                if (double.IsNaN(matrix[i, j]))
                {
                    throw Error("latencies", $"missing pair: no one_way_ms between \"{Regions[i]}\" and \"{Regions[j]}\"");
                }
            }
        }

        return matrix;
    }

    private SortedDictionary<int, IReadOnlyList<string>> ValidatePlacements(
        IReadOnlyDictionary<int, IReadOnlyList<string>> placements)
    {
        if (placements is null || placements.Count == 0)
        {
            throw Error("placement", "must give member regions for at least one cluster size");
        }

        var result = new SortedDictionary<int, IReadOnlyList<string>>();
        foreach (var (size, members) in placements)
        {
            string field = $"placement[\"{size.ToString(CultureInfo.InvariantCulture)}\"]";
            if (size < 1)
            {
                throw Error(field, "cluster size must be at least 1");
            }

            if (members is null || members.Count != size)
            {
                throw Error(field, $"must list exactly {size} member regions, has {members?.Count ?? 0}");
            }

            for (int i = 0; i < members.Count; i++)
            {
                RequireKnown(members[i], $"{field}[{i}]");
            }

            if (!members.Contains(LeaderRegion, StringComparer.Ordinal))
            {
                throw Error(field, $"has no member in leader_region \"{LeaderRegion}\"");
            }

            result[size] = [.. members];
        }

        return result;
    }

    private string[] ValidateClientRegions(IReadOnlyList<string>? clientRegions)
    {
        if (clientRegions is null)
        {
            return [.. Regions];
        }

        if (clientRegions.Count == 0)
        {
            throw Error("client_regions", "is empty; omit it to run clients in every region");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < clientRegions.Count; i++)
        {
            RequireKnown(clientRegions[i], $"client_regions[{i}]");
            if (!seen.Add(clientRegions[i]))
            {
                throw Error($"client_regions[{i}]", $"\"{clientRegions[i]}\" is listed twice");
            }
        }

        return [.. clientRegions];
    }
}
