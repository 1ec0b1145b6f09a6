using System.Diagnostics;
using System.Globalization;
using CurpStore.Client;
using CurpStore.Rpc;

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
        var latencies = new List<double>[options.Clients];
        var clock = Stopwatch.StartNew();
        var deadline = options.Seconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
        using var reporter = progress is null ? null : new Timer(_ => progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {clock.Elapsed.TotalSeconds,6:F1} s  {Volatile.Read(ref succeeded),9} ok  {Volatile.Read(ref failed),6} failed")), null, 1_000, 1_000);
        var clients = Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
        {
            var mine = latencies[client] = new List<double>();
            var random = new Random(client * 7919 + 17);
            int sequence;
            while (clock.Elapsed < deadline && ((sequence = Interlocked.Increment(ref issued)) <= options.Total || options.Seconds is not null))
            {
                var keyNumber = options.Sequential ? (sequence - 1) % options.KeySpace : random.Next(options.KeySpace);
                var key = random.NextDouble() < options.Conflict ? HotKey : $"bench/{keyNumber:D9}";
                var kind = options.Kind != LoadKind.Mixed ? options.Kind : random.Next(10) switch { < 5 => LoadKind.Put, < 8 => LoadKind.Range, _ => LoadKind.Txn };
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var path = await driver.IssueAsync(client, kind, key, cancellationToken).ConfigureAwait(false);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
        var all = latencies.SelectMany(l => l ?? []).ToArray();
        Array.Sort(all);
        var result = new LoadResult(options, succeeded, failed, elapsed, all, options.Target == LoadOptions.CurpClientTarget ? paths : null);
        if (options.CsvPath is { } csv)
        {
            var header = File.Exists(csv) ? "" : LoadResult.CsvHeader + Environment.NewLine;
            File.AppendAllText(csv, header + result.CsvLine() + Environment.NewLine);
        }
        return result;
    }
}
