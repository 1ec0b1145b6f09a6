using System.Diagnostics;
using System.Globalization;
using System.Net;
using CurpStore.Bench.Load;
using CurpStore.GeoSim;
using CurpStore.Rig;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Bench.Geo;

/// <summary>
/// The geo benchmark: for each topology and system, brings the WAN rig up (one member per region, the leader moved to
/// the topology's leader region), then for each conflict ratio runs the load tool in every client region's namespace
/// at once, each against the member of its own region (etcd-API clients) or against all members (the .NET client).
/// CurpStore members' <c>/metrics</c> are saved before and after every point, so the clients' per-path counts can be
/// checked against them. Writes <c>points.csv</c>, the samples, the plots and the summary (see <see cref="GeoReport"/>).
/// </summary>
public static class GeoBenchmark
{
    private static readonly TimeSpan LeaderTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Prefix of this tool's rig runs ("cgeo" + 4 hex digits): other rig users (the fault harness uses
    /// "crig") never share its namespaces.</summary>
    public const string RunNamePrefix = "cgeo";

    public static async Task<IReadOnlyList<GeoPoint>> RunAsync(GeoOptions options, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(Path.Combine(output, "samples"));
        Directory.CreateDirectory(Path.Combine(output, "metrics"));
        var topologies = options.Topologies.Select(name => TopologyLoader.Load(TopologyLoader.ResolvePath(Path.Combine("topologies", name + ".json")))).ToList();
        var plan = (from topology in topologies
                    from system in options.Systems
                    select (topology, system, Runs: Runs(options, system).ToList())).ToList();
        var totalPoints = plan.Sum(p => p.Runs.Count);
        var clock = Stopwatch.StartNew();
        var done = 0;
        var points = new List<GeoPoint>();
        var pointsCsv = Path.Combine(output, "points.csv");
        await File.WriteAllTextAsync(pointsCsv, GeoPoint.CsvHeader + "\n"); // one line per point as it ends: a crash keeps what was measured
        foreach (var (topology, system, runs) in plan)
        {
            progress.WriteLine($"== {Name(topology)} / {system}: bringing the rig up ({topology.Regions.Count} members, leader in {topology.LeaderRegion})");
            await using var rig = await RigRun.StartAsync(new RigOptions
            {
                Topology = topology,
                System = system == GeoOptions.Etcd ? "etcd" : "curpstore",
                Members = topology.Regions.Count,
                StateDirectory = Path.Combine(Path.GetTempPath(), "curpstore-geo-bench"),
                MemberFlags = system == GeoOptions.CurpStoreNoFastPath ? ["--experimental-fast-path=false"] : [],
                DeleteRunDirectoryOnDispose = true,
                RunName = RunNamePrefix + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture),
            });
            await rig.WaitForMembersAsync(TimeSpan.FromSeconds(120));
            await PinLeaderAsync(rig, topology.LeaderRegion);
            // A fresh cluster's first writes pay for sessions, connections and JIT: one unrecorded round first.
            progress.WriteLine($"   warm-up round ({options.WarmupRoundSeconds} s, not recorded)");
            await RunPointAsync(rig, options, options.WarmupRoundSeconds, output, $"{Name(topology)}-{system}-warmup", GeoPoint.EtcdApi, 0);
            foreach (var (clientKind, conflict) in runs)
            {
                var pointName = $"{Name(topology)}-{system}-{clientKind}-c{conflict * 100:0}";
                var before = system == GeoOptions.Etcd ? null : await ScrapeAllAsync(rig, output, pointName + "-before");
                var measured = await RunPointAsync(rig, options, options.WarmupSeconds + options.MeasuredSeconds, output, pointName, clientKind, conflict);
                var after = system == GeoOptions.Etcd ? null : await ScrapeAllAsync(rig, output, pointName + "-after");
                foreach (var (region, result) in measured)
                {
                    var member = rig.Plan.Members.First(m => m.Region == region);
                    var metrics = before is null || after is null || clientKind != GeoPoint.EtcdApi ? null : after[member.Name] - before[member.Name];
                    var floorMs = QuorumFloor.Compute(topology, topology.Regions.Count, region).FloorMs;
                    var point = new GeoPoint(Name(topology), system, clientKind, conflict, region, floorMs, result.Succeeded, result.Failed,
                        result.SortedLatenciesMs, result.Paths, metrics, Path.GetFileName(result.SamplesFile))
                    {
                        Errors = result.Errors,
                    };
                    points.Add(point);
                    await File.AppendAllTextAsync(pointsCsv, point.CsvLine() + "\n");
                }
                done++;
                var elapsed = clock.Elapsed;
                var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (totalPoints - done));
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{done}/{totalPoints}] {Name(topology)} {system} {clientKind} conflict {conflict:P0}: ")
                    + string.Join("; ", points.TakeLast(measured.Count).Select(p => string.Create(CultureInfo.InvariantCulture,
                        $"{p.Region} p50 {p.MedianMs:F1} ms (floor {p.FloorMs:F0}){(p.ClientPaths is { } c ? $" paths {c}" : "")}{(p.PathsAgree is { } agree ? agree ? " = /metrics" : $" != /metrics {p.MetricsPaths}" : "")}{(p.Failed > 0 ? $" ({p.Failed} failed: {p.Errors})" : "")}")))
                    + $"  | elapsed {elapsed:mm\\:ss}, ETA {eta:mm\\:ss}");
            }
            var leader = await LeaderRegionAsync(rig);
            if (leader != topology.LeaderRegion)
            {
                progress.WriteLine($"warning: the leader moved to {leader} during the runs");
            }
        }
        return points;
    }

    private static string Name(Topology topology) => Path.GetFileNameWithoutExtension(topology.Source);

    private static IEnumerable<(string ClientKind, double Conflict)> Runs(GeoOptions options, string system)
    {
        foreach (var conflict in options.Conflicts)
        {
            yield return (GeoPoint.EtcdApi, conflict);
        }
        if (system == GeoOptions.CurpStore)
        {
            foreach (var conflict in options.DotnetClientConflicts)
            {
                yield return (GeoPoint.DotnetClient, conflict);
            }
        }
    }

    /// <param name="Errors">The load tool's lines naming failed requests and their errors (empty when none failed).</param>
    private sealed record RegionResult(int Succeeded, int Failed, double[] SortedLatenciesMs, PathCounts? Paths, string SamplesFile, string Errors);

    /// <summary>One load tool process per client region, all at once, inside the region's namespace, for
    /// <paramref name="seconds"/> of which the first <see cref="GeoOptions.WarmupSeconds"/> are not recorded.</summary>
    private static async Task<List<(string Region, RegionResult Result)>> RunPointAsync(
        RigRun rig, GeoOptions options, int seconds, string output, string pointName, string clientKind, double conflict)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var tool = typeof(GeoBenchmark).Assembly.Location;
        var all = string.Join(',', rig.Plan.Members.Select(RigPlan.ClientUrl));
        var runs = rig.Plan.Clients.Select(client =>
        {
            var local = rig.Plan.Members.FirstOrDefault(m => m.Region == client.Region);
            var endpoints = clientKind == GeoPoint.DotnetClient || local is null ? all : RigPlan.ClientUrl(local);
            var samples = Path.Combine(output, "samples", $"{pointName}-{client.Region}.csv");
            var csv = Path.Combine(output, "samples", $"{pointName}-{client.Region}.summary.csv");
            File.Delete(csv);
            string[] command =
            [
                host, tool, "put", "--endpoints", endpoints,
                "--clients", options.ClientsPerRegion.ToString(CultureInfo.InvariantCulture),
                "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
                "--warmup", options.WarmupSeconds.ToString(CultureInfo.InvariantCulture),
                "--conflict", conflict.ToString(CultureInfo.InvariantCulture),
                "--key-prefix", $"{pointName}-{client.Region}",
                "--key-space", "1000000",
                "--target", clientKind == GeoPoint.DotnetClient ? LoadOptions.CurpClientTarget : "etcd",
                "--samples", samples, "--csv", csv,
            ];
            return (client.Region, Task: RunToolAsync(rig.ExecStartInfo(client.Name, command), samples, csv));
        }).ToList();
        var results = new List<(string, RegionResult)>();
        foreach (var (region, task) in runs)
        {
            results.Add((region, await task));
        }
        return results;
    }

    private static async Task<RegionResult> RunToolAsync(ProcessStartInfo info, string samplesFile, string csvFile)
    {
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("the load tool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the load tool ran for more than 3 minutes: {string.Join(' ', info.ArgumentList)}");
        }
        if (process.ExitCode != 0 || !File.Exists(csvFile))
        {
            throw new InvalidOperationException($"the load tool failed ({process.ExitCode}): {string.Join(' ', info.ArgumentList)}\n{await stdout}\n{await stderr}");
        }
        // The load tool's CSV (LoadResult.CsvHeader): columns found by name, so new columns do not shift them.
        var lines = File.ReadAllLines(csvFile);
        var columns = lines[0].Split(',').Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
        var fields = lines[^1].Split(',');
        string Field(string name) => fields[columns[name]];
        var paths = Field("fast").Length > 0
            ? new PathCounts(long.Parse(Field("fast"), CultureInfo.InvariantCulture), long.Parse(Field("commit_notice"), CultureInfo.InvariantCulture), long.Parse(Field("slow"), CultureInfo.InvariantCulture))
            : null;
        var latencies = File.ReadLines(samplesFile).Skip(1).Select(line => double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).Order().ToArray();
        // The tool writes its progress and its "failed N times: ERROR" lines to standard error, its summary to standard output.
        var errors = string.Join("; ", (await stderr).Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("failed ", StringComparison.Ordinal)));
        return new RegionResult(int.Parse(Field("succeeded"), CultureInfo.InvariantCulture), int.Parse(Field("failed"), CultureInfo.InvariantCulture), latencies, paths, samplesFile, errors);
    }

    /// <summary>Every member's <c>/metrics</c> (saved under <c>metrics/</c>) reduced to its committed writes by path.
    /// Scraped from the root namespace straight to the member's address: no link delay.</summary>
    private static async Task<Dictionary<string, PathCounts>> ScrapeAllAsync(RigRun rig, string output, string label)
    {
        var counts = new Dictionary<string, PathCounts>();
        foreach (var member in rig.Plan.Members)
        {
            var text = await ScrapeAsync(RigPlan.ClientUrl(member) + "/metrics");
            await File.WriteAllTextAsync(Path.Combine(output, "metrics", $"{label}-{member.Region}.txt"), text);
            counts[member.Name] = new PathCounts(Committed(text, CommitPathTrailer.Fast), Committed(text, CommitPathTrailer.CommitNotice), Committed(text, CommitPathTrailer.Slow));
        }
        return counts;
    }

    /// <summary>One scrape over h2c, tried up to 5 times: a loaded member now and then closes the connection (GOAWAY)
    /// under a request.</summary>
    private static async Task<string> ScrapeAsync(string url)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
                using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                using var response = await http.SendAsync(request);
                return await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync();
            }
            catch (Exception e) when (attempt < 5 && e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(1_000);
            }
        }
    }

    /// <summary>The value of <c>curpstore_proposals_committed_total{path="..."}</c> in an exposition (the tests read the
    /// saved files with the strict parser; this only finds one series).</summary>
    public static long Committed(string exposition, string path)
    {
        var series = $"curpstore_proposals_committed_total{{path=\"{path}\"}} ";
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(series, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no {series.Trim()} in the member's /metrics");
        return (long)double.Parse(line[series.Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>Moves the leadership to the member in <paramref name="region"/> (MoveLeader, on CurpStore and etcd alike)
    /// and waits until every member sees it there.</summary>
    private static async Task PinLeaderAsync(RigRun rig, string region)
    {
        var target = rig.Plan.Members.First(m => m.Region == region);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var statuses = await StatusesAsync(rig);
            var targetId = statuses[target.Name].Header.MemberId;
            if (statuses.Values.All(s => s.Leader == targetId))
            {
                return;
            }
            if (deadline.Elapsed > LeaderTimeout)
            {
                throw new InvalidOperationException($"the leader did not move to {target.Name} ({region}) within {LeaderTimeout.TotalSeconds} s");
            }
            var leaderId = statuses.Values.Select(s => s.Leader).FirstOrDefault(l => l != 0);
            var leader = statuses.FirstOrDefault(s => s.Value.Header.MemberId == leaderId).Key;
            if (leader is not null && leader != target.Name)
            {
                using var channel = new GrpcChannel(new Uri(RigPlan.ClientUrl(rig.Plan.Members.First(m => m.Name == leader))));
                try
                {
                    await channel.UnaryAsync(MaintenanceMethods.MoveLeader, new Pb.MoveLeaderRequest { TargetID = targetId },
                        new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(20)));
                }
                catch (RpcException)
                {
                    // A leader change under way; look again.
                }
            }
            await Task.Delay(500);
        }
    }

    private static async Task<string?> LeaderRegionAsync(RigRun rig)
    {
        var statuses = await StatusesAsync(rig);
        var leaderId = statuses.Values.Select(s => s.Leader).FirstOrDefault(l => l != 0);
        return rig.Plan.Members.FirstOrDefault(m => statuses[m.Name].Header.MemberId == leaderId)?.Region;
    }

    /// <summary>Every member's Status, waiting (bounded) until each answers with a leader.</summary>
    private static async Task<Dictionary<string, Pb.StatusResponse>> StatusesAsync(RigRun rig)
    {
        var statuses = new Dictionary<string, Pb.StatusResponse>();
        var deadline = Stopwatch.StartNew();
        foreach (var member in rig.Plan.Members)
        {
            using var channel = new GrpcChannel(new Uri(RigPlan.ClientUrl(member)));
            while (true)
            {
                try
                {
                    var status = await channel.UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(5)));
                    if (status.Leader != 0)
                    {
                        statuses[member.Name] = status;
                        break;
                    }
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException)
                {
                    // not ready yet
                }
                if (deadline.Elapsed > LeaderTimeout)
                {
                    throw new InvalidOperationException($"member {member.Name} knows no leader after {LeaderTimeout.TotalSeconds} s:\n{rig.LogTail(member.Name)}");
                }
                await Task.Delay(200);
            }
        }
        return statuses;
    }
}
