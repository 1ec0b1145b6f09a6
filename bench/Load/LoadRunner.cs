using System.Diagnostics;
using System.Globalization;
using CurpStore.Client;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;

namespace CurpStore.Bench.Load;

/// <summary>One load run's numbers. <paramref name="PathCounts"/> counts the writes by <see cref="CommitPath"/> (indexed
/// by its value) when the target reports them (<c>curp-client</c>).</summary>
public sealed record LoadResult(LoadOptions Options, int Succeeded, int Failed, double Seconds, double[] SortedLatenciesMs, int[]? PathCounts = null)
{
    public double Throughput => Succeeded / Seconds;

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Target} {Options.Kind.ToString().ToLowerInvariant()} clients={Options.Clients}: {Succeeded} ok, {Failed} failed in {Seconds:F2} s = {Throughput:F0} req/s; "
        + $"latency ms p50 {Percentile(50):F2} p90 {Percentile(90):F2} p99 {Percentile(99):F2} p99.9 {Percentile(99.9):F2}")
        + (PathCounts is { } paths
            ? $"; writes by path: fast {paths[(int)CommitPath.Fast]}, commit notice {paths[(int)CommitPath.CommitNotice]}, slow {paths[(int)CommitPath.Slow]}"
            : "");

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Target},{Options.Kind.ToString().ToLowerInvariant()},{Options.Clients},{Succeeded},{Failed},{Seconds:F3},{Throughput:F1},{Percentile(50):F3},{Percentile(90):F3},{Percentile(99):F3},{Percentile(99.9):F3},")
        + (PathCounts is { } paths ? $"{paths[(int)CommitPath.Fast]},{paths[(int)CommitPath.CommitNotice]},{paths[(int)CommitPath.Slow]}" : ",,");

    /// <summary>The last three columns are empty for targets that do not report commit paths.</summary>
    public const string CsvHeader = "target,kind,clients,succeeded,failed,seconds,throughput_per_s,p50_ms,p90_ms,p99_ms,p999_ms,fast,commit_notice,slow";
}

/// <summary>One measured request: when it started (seconds into the run), how long it took, whether it used the hot key,
/// and how the write completed when the target says.</summary>
public sealed record LoadSample(double StartSeconds, double LatencyMs, bool Hot, CommitPath? Path)
{
    public const string CsvHeader = "start_s,latency_ms,hot,path";

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{StartSeconds:F4},{LatencyMs:F3},{(Hot ? 1 : 0)},{Path switch { CommitPath.Fast => CommitPathTrailer.Fast, CommitPath.CommitNotice => CommitPathTrailer.CommitNotice, CommitPath.Slow => CommitPathTrailer.Slow, _ => "" }}");
}

/// <summary>
/// Drives any etcd v3 endpoint (CurpStore or etcd) through the project's own gRPC client, or CurpStore through its
/// .NET client (<c>--target curp-client</c>): N clients, each with one request in flight, spread over the endpoints; a
/// shared hot key takes the <c>--conflict</c> fraction of requests.
/// </summary>
public static class LoadRunner
{
    private const string HotKey = "bench/hot";

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        await using var driver = await LoadDriver.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        var issued = 0;
        var succeeded = 0;
        var failed = 0;
        var paths = new int[Enum.GetValues<CommitPath>().Length];
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var samples = new List<LoadSample>[options.Clients];
        var clock = Stopwatch.StartNew();
        var deadline = options.Seconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var keyPrefix = options.KeyPrefix is { } prefix ? $"bench/{prefix}/" : "bench/";
        using var reporter = progress is null ? null : new Timer(_ => progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {clock.Elapsed.TotalSeconds,6:F1} s  {Volatile.Read(ref succeeded),9} ok  {Volatile.Read(ref failed),6} failed")), null, 1_000, 1_000);
        var clients = Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
        {
            var mine = samples[client] = [];
            var random = new Random(client * 7919 + 17);
            int sequence;
            while (clock.Elapsed < deadline && ((sequence = Interlocked.Increment(ref issued)) <= options.Total || options.Seconds is not null))
            {
                var keyNumber = options.Sequential ? (sequence - 1) % options.KeySpace : random.Next(options.KeySpace);
                var hot = random.NextDouble() < options.Conflict;
                var key = hot ? HotKey : $"{keyPrefix}{keyNumber:D9}";
                var kind = options.Kind != LoadKind.Mixed ? options.Kind : random.Next(10) switch { < 5 => LoadKind.Put, < 8 => LoadKind.Range, _ => LoadKind.Txn };
                var startedAt = clock.Elapsed;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var path = await driver.IssueAsync(client, kind, key, cancellationToken).ConfigureAwait(false);
                    if (startedAt >= warmup)
                    {
                        mine.Add(new LoadSample(startedAt.TotalSeconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds, hot, path));
                    }
                    Interlocked.Increment(ref succeeded);
                    if (path is { } decided)
                    {
                        Interlocked.Increment(ref paths[(int)decided]);
                    }
                }
                catch (Exception e) when (e is RpcException or EtcdException)
                {
                    Interlocked.Increment(ref failed);
                    errors.AddOrUpdate(e.Message, 1, (_, count) => count + 1);
                }
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(clients).ConfigureAwait(false);
        foreach (var (message, count) in errors)
        {
            progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  failed {count} times: {message}"));
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        var measured = samples.SelectMany(l => l ?? []).OrderBy(s => s.StartSeconds).ToList();
        var all = measured.Select(s => s.LatencyMs).ToArray();
        Array.Sort(all);
        // etcd-API targets report paths only when the server names them (CurpStore's trailer; etcd sends none).
        var reportsPaths = options.Target == LoadOptions.CurpClientTarget || paths.Sum() > 0;
        var result = new LoadResult(options, succeeded, failed, elapsed, all, reportsPaths ? paths : null);
        if (options.SamplesPath is { } samplesPath)
        {
            File.WriteAllLines(samplesPath, [LoadSample.CsvHeader, .. measured.Select(s => s.CsvLine())]);
        }
        if (options.CsvPath is { } csv)
        {
            var header = File.Exists(csv) ? "" : LoadResult.CsvHeader + Environment.NewLine;
            File.AppendAllText(csv, header + result.CsvLine() + Environment.NewLine);
        }
        return result;
    }
}
