using System.Globalization;

namespace CurpStore.Bench.Geo;

/// <summary>Writes by commit path: fast, by commit notice, slow.</summary>
public sealed record PathCounts(long Fast, long CommitNotice, long Slow)
{
    public long Total => Fast + CommitNotice + Slow;

    public static PathCounts operator -(PathCounts after, PathCounts before) =>
        new(after.Fast - before.Fast, after.CommitNotice - before.CommitNotice, after.Slow - before.Slow);

    public override string ToString() => $"{Fast}/{CommitNotice}/{Slow}";
}

/// <summary>One client region's numbers at one point (topology, system, client kind, conflict ratio).</summary>
/// <param name="ClientKind"><see cref="EtcdApi"/> (the serving member proposes) or <see cref="DotnetClient"/>.</param>
/// <param name="FloorMs">The topology's floor for a write from this region (geo-sim's <c>QuorumFloor</c>).</param>
/// <param name="SortedLatenciesMs">Measured puts (warm-up left out), sorted.</param>
/// <param name="ClientPaths">Writes by path as the clients counted them (warm-up included); null when the system names
/// no path (etcd).</param>
/// <param name="MetricsPaths">The serving member's <c>curpstore_proposals_committed_total</c> delta over the point; null
/// for the .NET client (it proposes itself, so no member counts its writes) and for etcd.</param>
public sealed record GeoPoint(
    string Topology, string System, string ClientKind, double Conflict, string Region, double FloorMs, int Succeeded, int Failed,
    double[] SortedLatenciesMs, PathCounts? ClientPaths, PathCounts? MetricsPaths, string SamplesFile)
{
    /// <summary>What the load tool said of failed requests (not in the CSV).</summary>
    public string Errors { get; init; } = "";

    public const string EtcdApi = "etcd-api";
    public const string DotnetClient = "dotnet-client";

    public const string CsvHeader =
        "topology,system,client_kind,conflict,region,floor_ms,succeeded,failed,measured,p50_ms,p90_ms,p99_ms,"
        + "client_fast,client_commit_notice,client_slow,metrics_fast,metrics_commit_notice,metrics_slow,samples_file";

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public double MedianMs => Percentile(50);

    /// <summary>Whether the clients' per-path counts equal the serving member's metrics (null when there is nothing
    /// to compare).</summary>
    public bool? PathsAgree => ClientPaths is { } client && MetricsPaths is { } metrics ? client == metrics : null;

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{Topology},{System},{ClientKind},{Conflict},{Region},{FloorMs:F1},{Succeeded},{Failed},{SortedLatenciesMs.Length},{Percentile(50):F2},{Percentile(90):F2},{Percentile(99):F2},")
        + $"{Counts(ClientPaths)},{Counts(MetricsPaths)},{SamplesFile}";

    private static string Counts(PathCounts? counts) =>
        counts is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c.Fast},{c.CommitNotice},{c.Slow}") : ",,";
}
