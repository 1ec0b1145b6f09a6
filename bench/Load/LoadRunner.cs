using System.Diagnostics;
using System.Globalization;
using CurpStore.Client;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;

namespace CurpStore.Bench.Load;

/// <summary>One measured request: when it started (seconds into the run), how long it took, whether it used the hot key,
/// and how the write completed when the target says.</summary>
public sealed record LoadSample(double StartSeconds, double LatencyMs, bool Hot, CommitPath? Path)
{
    public const string CsvHeader = "start_s,latency_ms,hot,path";

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{StartSeconds:F4},{LatencyMs:F3},{(Hot ? 1 : 0)},{Path switch { CommitPath.Fast => CommitPathTrailer.Fast, CommitPath.CommitNotice => CommitPathTrailer.CommitNotice, CommitPath.Slow => CommitPathTrailer.Slow, _ => "" }}");
}

/// <summary>One load run's numbers. <paramref name="PathCounts"/> counts the writes by <see cref="CommitPath"/> (indexed
/// by its value) when the target reports them (<c>curp-client</c>).</summary>
public sealed record LoadResult(LoadOptions Options, int Succeeded, int Failed, double Seconds, double[] SortedLatenciesMs, int[]? PathCounts = null)
{
    /// <summary>The message etcd (and CurpStore) answers a request refused for load with (RESOURCE_EXHAUSTED).</summary>
    public const string TooManyRequestsMessage = "etcdserver: too many requests";

    /// <summary>Failed requests by error message.</summary>
    public IReadOnlyDictionary<string, int> Errors { get; init; } = new Dictionary<string, int>();

    /// <summary>The highest resident-memory peak (VmHWM) of the sampled members, in KiB; null when none was sampled.</summary>
    public long? PeakRssKb { get; init; }

    public double Throughput => Succeeded / Seconds;

    /// <summary>Requests refused with <see cref="TooManyRequestsMessage"/> (the error text carries the gRPC status too).</summary>
    public int TooManyRequests => Errors.Where(e => e.Key.Contains(TooManyRequestsMessage, StringComparison.Ordinal)).Sum(e => e.Value);

    /// <summary>Open loop: requests the tool did not send because their client had too many unanswered.</summary>
    public int NotSent => Errors.Where(e => e.Key.StartsWith(LoadRunner.NotSentPrefix, StringComparison.Ordinal)).Sum(e => e.Value);

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture, $"{Options.Target} {Options.Kind.ToString().ToLowerInvariant()} clients={Options.Clients}")
        + (Options.RatePerSecond is { } rate ? string.Create(CultureInfo.InvariantCulture, $" offered {rate} req/s") : "")
        + string.Create(CultureInfo.InvariantCulture, $": {Succeeded} ok, {Failed} failed in {Seconds:F2} s = {Throughput:F0} req/s; "
            + $"latency ms p50 {Percentile(50):F2} p90 {Percentile(90):F2} p99 {Percentile(99):F2} p99.9 {Percentile(99.9):F2}")
        + (PathCounts is { } paths
            ? $"; writes by path: fast {paths[(int)CommitPath.Fast]}, commit notice {paths[(int)CommitPath.CommitNotice]}, slow {paths[(int)CommitPath.Slow]}"
            : "")
        + (PeakRssKb is { } peak ? string.Create(CultureInfo.InvariantCulture, $"; member peak RSS {peak / 1024.0:F0} MiB") : "")
        + string.Concat(Errors.OrderByDescending(e => e.Value).Select(e => string.Create(CultureInfo.InvariantCulture, $"; failed {e.Value}: {e.Key}")));

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Target},{Options.Kind.ToString().ToLowerInvariant()},{Options.Clients},{Succeeded},{Failed},{Seconds:F3},{Throughput:F1},{Percentile(50):F3},{Percentile(90):F3},{Percentile(99):F3},{Percentile(99.9):F3},")
        + (PathCounts is { } paths ? $"{paths[(int)CommitPath.Fast]},{paths[(int)CommitPath.CommitNotice]},{paths[(int)CommitPath.Slow]}" : ",,")
        + string.Create(CultureInfo.InvariantCulture, $",{Options.RatePerSecond},{TooManyRequests},{NotSent},{PeakRssKb}");

    /// <summary>fast, commit_notice and slow are empty for targets that do not report commit paths; offered_per_s for a
    /// closed loop; peak_rss_kb when no member was sampled. failed = too_many_requests + not_sent + other errors.</summary>
    public const string CsvHeader = "target,kind,clients,succeeded,failed,seconds,throughput_per_s,p50_ms,p90_ms,p99_ms,p999_ms,fast,commit_notice,slow,"
        + "offered_per_s,too_many_requests,not_sent,peak_rss_kb";
}

/// <summary>
/// Drives any etcd v3 endpoint (CurpStore or etcd) through the project's own gRPC client, or CurpStore through its
/// .NET client (<c>--target curp-client</c>): N clients, each with one request in flight, spread over the endpoints; a
/// shared hot key takes the <c>--conflict</c> fraction of requests.
/// </summary>
public static class LoadRunner
{
    private const string HotKey = "bench/hot";

    /// <summary>How the errors of requests the tool itself did not send begin.</summary>
    public const string NotSentPrefix = "load: ";

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        await using var driver = await LoadDriver.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        using var memory = new MemberMemorySampler(options.MemberPids);
        var issued = 0;
        var succeeded = 0;
        var failed = 0;
        var paths = new int[Enum.GetValues<CommitPath>().Length];
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var samples = new List<LoadSample>[options.Clients];
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var keyPrefix = options.KeyPrefix is { } prefix ? $"bench/{prefix}/" : "bench/";
        var deadline = options.Seconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
        using var reporter = progress is null ? null : new Timer(_ => progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {clock.Elapsed.TotalSeconds,6:F1} s  {Volatile.Read(ref succeeded),9} ok  {Volatile.Read(ref failed),6} failed")), null, 1_000, 1_000);

        void Fail(string message, int times = 1)
        {
            Interlocked.Add(ref failed, times);
            errors.AddOrUpdate(message, times, (_, count) => count + times);
        }

        // One request of one client; the sample list is the client's own (an open-loop client's answers complete
        // concurrently, so they lock it). Requests that start in the warm-up are counted but not measured.
        async Task IssueOneAsync(int client, int sequence, Random random)
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
                    var mine = samples[client];
                    lock (mine)
                    {
                        mine.Add(new LoadSample(startedAt.TotalSeconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds, hot, path));
                    }
                }
                Interlocked.Increment(ref succeeded);
                if (path is { } decided)
                {
                    Interlocked.Increment(ref paths[(int)decided]);
                }
            }
            catch (Exception e) when (e is RpcException or EtcdException)
            {
                Fail(e.GetBaseException() is var cause && cause != e ? $"{e.Message} ({cause.GetType().Name}: {cause.Message})" : e.Message);
            }
        }

        var clients = Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
        {
            samples[client] = [];
            var random = new Random(client * 7919 + 17);
            if (options.RatePerSecond is { } rate)
            {
                await RunOpenLoopAsync(client, rate, random).ConfigureAwait(false);
                return;
            }
            int sequence;
            while (clock.Elapsed < deadline && ((sequence = Interlocked.Increment(ref issued)) <= options.Total || options.Seconds is not null))
            {
                await IssueOneAsync(client, sequence, random).ConfigureAwait(false);
            }
        }, cancellationToken)).ToList();

        // Each client sends its share of the rate on a fixed schedule: request k is due at offset + k / rate, whether
        // earlier ones were answered or not. Requests due while the client already has MaxOutstandingPerClient
        // unanswered are not sent and fail here (all at once, so a saturated tool does not spin), which keeps the
        // tool's own memory bounded too.
        async Task RunOpenLoopAsync(int client, int rate, Random random)
        {
            var clientRate = (double)rate / options.Clients;
            // Clients start spread over one interval, so the requests do not leave in bursts of one per client.
            var offsetSeconds = (double)client / options.Clients / clientRate;
            var outstanding = new List<Task>();
            var outstandingBound = $"{NotSentPrefix}{options.MaxOutstandingPerClient} requests outstanding for one client (--max-outstanding)";
            long reached = 0;
            while (true)
            {
                var now = clock.Elapsed;
                var until = now < deadline ? now : deadline;
                var due = Math.Max(0, (long)Math.Floor((until.TotalSeconds - offsetSeconds) * clientRate) + 1);
                outstanding.RemoveAll(t => t.IsCompleted);
                for (; reached < due; reached++)
                {
                    if (outstanding.Count >= options.MaxOutstandingPerClient)
                    {
                        Fail(outstandingBound, (int)(due - reached));
                        reached = due;
                        break;
                    }
                    outstanding.Add(IssueOneAsync(client, Interlocked.Increment(ref issued), random));
                }
                if (now >= deadline)
                {
                    break;
                }
                var next = TimeSpan.FromSeconds(offsetSeconds + (reached / clientRate)) - clock.Elapsed;
                await Task.Delay(next > TimeSpan.FromMilliseconds(1) ? next : TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
            }
            await Task.WhenAll(outstanding).ConfigureAwait(false);
        }

        await Task.WhenAll(clients).ConfigureAwait(false);
        var elapsed = clock.Elapsed.TotalSeconds;
        foreach (var (message, count) in errors)
        {
            progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  failed {count} times: {message}"));
        }
        var measured = samples.SelectMany(l => l ?? []).OrderBy(s => s.StartSeconds).ToList();
        var all = measured.Select(s => s.LatencyMs).ToArray();
        Array.Sort(all);
        // etcd-API targets report paths only when the server names them (CurpStore's trailer; etcd sends none).
        var reportsPaths = options.Target == LoadOptions.CurpClientTarget || paths.Sum() > 0;
        var result = new LoadResult(options, succeeded, failed, elapsed, all, reportsPaths ? paths : null)
        {
            Errors = new Dictionary<string, int>(errors),
            PeakRssKb = memory.PeakKb(),
        };
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
