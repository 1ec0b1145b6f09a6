using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CurpStore.Bench.Geo;

/// <summary>The geo benchmark's summary (markdown tables with the acceptance checks), the README section between the
/// markers, and the gnuplot PNGs.</summary>
public static class GeoReport
{
    public const string BeginMarker = "<!-- geo-bench:begin -->";
    public const string EndMarker = "<!-- geo-bench:end -->";

    /// <summary>Acceptance bounds of issue 6 (scope 3).</summary>
    private const double FloorBound = 1.10;
    private const double EtcdBound = 1.05;
    private const double ConflictEtcdBound = 1.10;

    /// <summary>Per topology and client kind, one row per client region: floor, the three systems' medians at 0%
    /// conflicts, the ratios, and the 100%-conflict medians; then which bounds hold.</summary>
    public static string Summary(IReadOnlyList<GeoPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var text = new StringBuilder();
        var checks = new List<string>();
        foreach (var topology in points.Select(p => p.Topology).Distinct())
        {
            foreach (var kind in new[] { GeoPoint.EtcdApi, GeoPoint.DotnetClient })
            {
                var curpKind = points.Where(p => p.Topology == topology && p.System == GeoOptions.CurpStore && p.ClientKind == kind).ToList();
                if (curpKind.Count == 0 && kind == GeoPoint.DotnetClient)
                {
                    continue;
                }
                text.Append(CultureInfo.InvariantCulture, $"**{topology}, {(kind == GeoPoint.EtcdApi ? "etcd-API clients (the serving member proposes)" : ".NET client (proposes itself; etcd columns: etcd-API clients)")}**\n\n");
                text.Append("| client region | floor ms | CurpStore p50 | fast path off p50 | etcd p50 | CurpStore / floor | CurpStore / etcd | CurpStore p50, 100% conflicts | etcd p50, 100% conflicts | ratio at 100% | CurpStore writes fast / notice / slow (0%) | = /metrics |\n");
                text.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
                foreach (var region in points.Where(p => p.Topology == topology).Select(p => p.Region).Distinct())
                {
                    GeoPoint? Find(string system, string clientKind, double conflict) => points.FirstOrDefault(p =>
                        p.Topology == topology && p.Region == region && p.System == system && p.ClientKind == clientKind && p.Conflict == conflict);
                    var curp = Find(GeoOptions.CurpStore, kind, 0);
                    var noFast = Find(GeoOptions.CurpStoreNoFastPath, GeoPoint.EtcdApi, 0);
                    var etcd = Find(GeoOptions.Etcd, GeoPoint.EtcdApi, 0);
                    var curpConflict = Find(GeoOptions.CurpStore, kind, 1);
                    var etcdConflict = Find(GeoOptions.Etcd, GeoPoint.EtcdApi, 1);
                    var floorMs = (curp ?? etcd ?? noFast)?.FloorMs ?? double.NaN;
                    var toFloor = Ratio(curp, floorMs);
                    var toEtcd = Ratio(curp, etcd?.MedianMs);
                    var conflictToEtcd = Ratio(curpConflict, etcdConflict?.MedianMs);
                    text.Append(CultureInfo.InvariantCulture,
                        $"| {region} | {floorMs:F0} | {Ms(curp)} | {Ms(noFast)} | {Ms(etcd)} | {Format(toFloor)} | {Format(toEtcd)} | {Ms(curpConflict)} | {Ms(etcdConflict)} | {Format(conflictToEtcd)} | {curp?.ClientPaths?.ToString() ?? "–"} | {(kind == GeoPoint.EtcdApi ? Agreement(points, topology, region) : "–")} |\n");
                    var where = $"{topology}, {kind}, {region}";
                    Check(checks, toFloor, FloorBound, $"{where}: CurpStore p50 / floor");
                    Check(checks, toEtcd, EtcdBound, $"{where}: CurpStore p50 / etcd p50");
                    Check(checks, conflictToEtcd, ConflictEtcdBound, $"{where}: at 100% conflicts, CurpStore p50 / etcd p50");
                }
                text.Append('\n');
            }
        }
        var failed = checks.Count(c => c.StartsWith("FAILS", StringComparison.Ordinal));
        text.Append(CultureInfo.InvariantCulture, $"Checks ({checks.Count - failed} of {checks.Count} hold):\n\n");
        foreach (var check in checks)
        {
            text.Append("- ").Append(check).Append('\n');
        }
        var agreements = points.Where(p => p.PathsAgree is not null).ToList();
        text.Append(CultureInfo.InvariantCulture,
            $"\nClients' per-path counts equal the serving member's `/metrics` deltas at {agreements.Count(p => p.PathsAgree == true)} of {agreements.Count} (point, region) pairs.\n");
        return text.ToString();
    }

    /// <summary>Replaces what is between the markers in <paramref name="readmePath"/> with <paramref name="section"/>.</summary>
    public static void WriteIntoReadme(string readmePath, string section)
    {
        var text = File.ReadAllText(readmePath);
        var begin = text.IndexOf(BeginMarker, StringComparison.Ordinal);
        var end = text.IndexOf(EndMarker, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new InvalidOperationException($"{readmePath} has no {BeginMarker} ... {EndMarker} section");
        }
        File.WriteAllText(readmePath, text[..(begin + BeginMarker.Length)] + "\n" + section + text[end..]);
    }

    /// <summary>Writes the gnuplot data and scripts and runs gnuplot: per topology and client region, the latency CDF of
    /// every system at 0% conflicts; per topology, the median against the conflict ratio.</summary>
    public static IReadOnlyList<string> Plot(IReadOnlyList<GeoPoint> points, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(points);
        var plots = Path.Combine(outputDirectory, "plots");
        Directory.CreateDirectory(plots);
        var pngs = new List<string>();
        foreach (var topology in points.Select(p => p.Topology).Distinct())
        {
            foreach (var region in points.Where(p => p.Topology == topology).Select(p => p.Region).Distinct())
            {
                var series = points.Where(p => p.Topology == topology && p.Region == region && p.Conflict == 0 && p.SortedLatenciesMs.Length > 0).ToList();
                var lines = new List<string>();
                foreach (var point in series)
                {
                    var data = Path.Combine(plots, $"cdf-{topology}-{region}-{point.System}-{point.ClientKind}.dat");
                    var sorted = point.SortedLatenciesMs;
                    var step = Math.Max(1, sorted.Length / 500);
                    File.WriteAllLines(data, Enumerable.Range(0, sorted.Length).Where(i => i % step == 0 || i == sorted.Length - 1)
                        .Select(i => string.Create(CultureInfo.InvariantCulture, $"{sorted[i]:F3} {(i + 1.0) / sorted.Length:F5}")));
                    lines.Add($"'{data}' using 1:2 with lines lw 2 title '{point.System} ({point.ClientKind})'");
                }
                var floorMs = series.FirstOrDefault()?.FloorMs ?? 0;
                var png = Path.Combine(plots, $"cdf-{topology}-{region}.png");
                RunGnuplot(png, $"set title 'put latency CDF, {topology}, clients in {region}, 0% conflicts (floor {floorMs:F0} ms)'\n"
                    + "set xlabel 'latency ms'\nset ylabel 'fraction of puts'\nset key bottom right\nset grid\nset yrange [0:1]\n"
                    + string.Create(CultureInfo.InvariantCulture, $"set arrow from {floorMs},0 to {floorMs},1 nohead dt 2\n")
                    + "plot " + string.Join(", \\\n  ", lines) + "\n");
                pngs.Add(png);
            }
            var medianLines = new List<string>();
            foreach (var group in points.Where(p => p.Topology == topology).GroupBy(p => (p.System, p.ClientKind, p.Region)))
            {
                var data = Path.Combine(plots, $"median-{topology}-{group.Key.System}-{group.Key.ClientKind}-{group.Key.Region}.dat");
                File.WriteAllLines(data, group.OrderBy(p => p.Conflict).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Conflict * 100:F0} {p.MedianMs:F3}")));
                medianLines.Add($"'{data}' using 1:2 with linespoints lw 2 title '{group.Key.System} {(group.Key.ClientKind == GeoPoint.DotnetClient ? ".NET " : "")}{group.Key.Region}'");
            }
            var medianPng = Path.Combine(plots, $"median-{topology}.png");
            RunGnuplot(medianPng, $"set title 'median put latency against conflict ratio, {topology}'\n"
                + "set xlabel 'conflict ratio %'\nset ylabel 'p50 ms'\nset key outside right\nset grid\nset logscale x 10\nset xrange [0.5:150]\n"
                + "set xtics ('0 (shown at 0.5)' 0.5, '1' 1, '10' 10, '50' 50, '100' 100)\n"
                + "plot " + string.Join(", \\\n  ", medianLines).Replace("using 1:2", "using ($1 == 0 ? 0.5 : $1):2", StringComparison.Ordinal) + "\n");
            pngs.Add(medianPng);
        }
        return pngs;
    }

    private static void RunGnuplot(string png, string script)
    {
        var scriptPath = Path.ChangeExtension(png, ".gp");
        File.WriteAllText(scriptPath, $"set terminal pngcairo size 1200,700 noenhanced\nset output '{png}'\n{script}");
        var info = new ProcessStartInfo("gnuplot") { RedirectStandardError = true };
        info.ArgumentList.Add(scriptPath);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("gnuplot did not start (apt-get install -y gnuplot-nox)");
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"gnuplot failed on {scriptPath}: {errors}");
        }
    }

    private static string Agreement(IReadOnlyList<GeoPoint> points, string topology, string region)
    {
        var compared = points.Where(p => p.Topology == topology && p.Region == region && p.PathsAgree is not null).ToList();
        return compared.Count == 0 ? "–" : $"{compared.Count(p => p.PathsAgree == true)} of {compared.Count} points";
    }

    private static double? Ratio(GeoPoint? point, double? denominator) =>
        point is null || denominator is not > 0 || double.IsNaN(point.MedianMs) ? null : point.MedianMs / denominator.Value;

    private static string Ms(GeoPoint? point) => point is null ? "–" : string.Create(CultureInfo.InvariantCulture, $"{point.MedianMs:F1}");

    private static string Format(double? ratio) => ratio is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r:F2}") : "–";

    private static void Check(List<string> checks, double? ratio, double bound, string what)
    {
        if (ratio is { } r)
        {
            checks.Add(string.Create(CultureInfo.InvariantCulture, $"{(r <= bound ? "holds" : "FAILS")}: {what} = {r:F2} (bound {bound:F2})"));
        }
    }
}
