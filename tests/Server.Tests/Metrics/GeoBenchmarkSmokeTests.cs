using CurpStore.Bench.Geo;

namespace CurpStore.Server.Tests.Metrics;

/// <summary>
/// A tiny geo benchmark end to end (three regions through the WAN rig, CurpStore with and without the fast path, 0%
/// conflicts, 3 s per point after 2 s of warm-up, no plots): the benchmark's etcd-API clients count every write by the path its serving
/// member names in the <c>curp-commit-path</c> trailer, and those counts equal the member's <c>/metrics</c> deltas,
/// read here from the saved expositions with the strict text-format parser. With <c>--experimental-fast-path=false</c>
/// every write is slow. Needs root and network namespaces, as the rig does.
/// </summary>
[TestClass]
public sealed class GeoBenchmarkSmokeTests
{
    [TestMethod]
    public async Task TinyGeoBenchmark_ClientsCountPerPathWhatMembersMetricsSay_AndFastPathOffMakesEveryWriteSlow()
    {
        var output = Path.Combine(Path.GetTempPath(), "curpstore-geo-smoke-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var options = new GeoOptions
            {
                OutputDirectory = output,
                Topologies = ["three-regions"],
                Systems = [GeoOptions.CurpStore, GeoOptions.CurpStoreNoFastPath],
                Conflicts = [0],
                DotnetClientConflicts = [],
                MeasuredSeconds = 3,
                WarmupSeconds = 2,
                WarmupRoundSeconds = 5,
                ClientsPerRegion = 2,
                Plots = false,
            };
            using var progress = new StringWriter();
            var points = await GeoBenchmark.RunAsync(options, progress);
            var log = progress.ToString();
            Console.WriteLine(log);

            Assert.AreEqual(6, points.Count, log); // 2 systems x 3 client regions
            foreach (var point in points)
            {
                var where = $"{point.System} {point.Region}: clients {point.ClientPaths}, /metrics {point.MetricsPaths}\n{log}";
                // A put may fail on a member of a loaded CI machine (2 of 106 once, its error not recorded then; the
                // progress line now names it): the bound is 5%. The agreement below stays exact: a failed put that
                // committed anyway would be counted by the member and not by the clients.
                Assert.IsLessThanOrEqualTo(point.Succeeded / 20, point.Failed, $"{point.Errors}\n{where}");
                Assert.IsTrue(point.SortedLatenciesMs.Length > 0, where);
                Assert.IsNotNull(point.ClientPaths, where);
                Assert.AreEqual(point.Succeeded, point.ClientPaths.Total, "every put named its path: " + where);
                Assert.AreEqual(point.ClientPaths, point.MetricsPaths, where);
            }
            var slowOnly = points.Where(p => p.System == GeoOptions.CurpStoreNoFastPath).ToList();
            Assert.IsTrue(slowOnly.All(p => p.ClientPaths!.Fast == 0 && p.ClientPaths.CommitNotice == 0), log);
            Assert.IsTrue(points.Where(p => p.System == GeoOptions.CurpStore).Sum(p => p.ClientPaths!.Fast) > 0, "disjoint keys take the fast path: " + log);

            // The saved expositions parse strictly; each member's counters are what the benchmark read, and its
            // fast-path ratio is fast / all of those counters.
            var afterFiles = Directory.GetFiles(Path.Combine(output, "metrics"), "*-c0-after-*.txt");
            Assert.AreEqual(6, afterFiles.Length, string.Join(", ", afterFiles));
            foreach (var file in afterFiles)
            {
                var text = await File.ReadAllTextAsync(file);
                var families = PrometheusText.Parse(text);
                var counts = new[] { "fast", "commit_notice", "slow" }.Select(path => families.Value("curpstore_proposals_committed_total", ("path", path))).ToArray();
                Assert.AreEqual(GeoBenchmark.Committed(text, "fast"), (long)counts[0], file);
                Assert.AreEqual(counts[0] / counts.Sum(), families.Value("curpstore_fast_path_ratio"), 1e-9, file);
                if (file.Contains(GeoOptions.CurpStoreNoFastPath, StringComparison.Ordinal))
                {
                    Assert.AreEqual((0.0, 0.0), (counts[0], counts[1]), file);
                }
            }
            var csv = await File.ReadAllLinesAsync(Path.Combine(output, "points.csv"));
            Assert.AreEqual(GeoPoint.CsvHeader, csv[0]);
            Assert.AreEqual(7, csv.Length);

            var summary = GeoReport.Summary(points);
            StringAssert.Contains(summary, "| eu-west | 140 |");
            StringAssert.Contains(summary, "equal the serving member's `/metrics` deltas at 6 of 6");
            var readme = Path.Combine(output, "README.md");
            await File.WriteAllTextAsync(readme, $"# x\n{GeoReport.BeginMarker}\nold\n{GeoReport.EndMarker}\nafter\n");
            GeoReport.WriteIntoReadme(readme, summary);
            var written = await File.ReadAllTextAsync(readme);
            Assert.IsFalse(written.Contains("\nold\n", StringComparison.Ordinal));
            StringAssert.Contains(written, summary + GeoReport.EndMarker + "\nafter\n");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
