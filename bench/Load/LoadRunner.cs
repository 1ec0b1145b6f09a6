using System.Diagnostics;
using System.Globalization;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Bench.Load;

/// <summary>One load run's numbers.</summary>
public sealed record LoadResult(LoadOptions Options, int Succeeded, int Failed, double Seconds, double[] SortedLatenciesMs)
{
    public double Throughput => Succeeded / Seconds;

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Target} {Options.Kind.ToString().ToLowerInvariant()} clients={Options.Clients}: {Succeeded} ok, {Failed} failed in {Seconds:F2} s = {Throughput:F0} req/s; "
        + $"latency ms p50 {Percentile(50):F2} p90 {Percentile(90):F2} p99 {Percentile(99):F2} p99.9 {Percentile(99.9):F2}");

    public string CsvLine() => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Target},{Options.Kind.ToString().ToLowerInvariant()},{Options.Clients},{Succeeded},{Failed},{Seconds:F3},{Throughput:F1},{Percentile(50):F3},{Percentile(90):F3},{Percentile(99):F3},{Percentile(99.9):F3}");

    public const string CsvHeader = "target,kind,clients,succeeded,failed,seconds,throughput_per_s,p50_ms,p90_ms,p99_ms,p999_ms";
}

/// <summary>
/// Drives any etcd v3 endpoint (CurpStore or etcd) through the project's own gRPC client: N clients, each with one
/// request in flight, spread over the endpoints; a shared hot key takes the <c>--conflict</c> fraction of requests.
/// </summary>
public static class LoadRunner
{
    private const string HotKey = "bench/hot";

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        var channels = options.Endpoints.Select(e => new GrpcChannel(e)).ToArray();
        try
        {
            var value = ByteString.CopyFrom(new byte[options.ValueSize]);
            var issued = 0;
            var succeeded = 0;
            var failed = 0;
            var latencies = new List<double>[options.Clients];
            var clock = Stopwatch.StartNew();
            var deadline = options.Seconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
            using var reporter = progress is null ? null : new Timer(_ => progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {clock.Elapsed.TotalSeconds,6:F1} s  {Volatile.Read(ref succeeded),9} ok  {Volatile.Read(ref failed),6} failed")), null, 1_000, 1_000);
            var clients = Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
            {
                var mine = latencies[client] = new List<double>();
                var random = new Random(client * 7919 + 17);
                var channel = channels[client % channels.Length];
                int sequence;
                while (clock.Elapsed < deadline && ((sequence = Interlocked.Increment(ref issued)) <= options.Total || options.Seconds is not null))
                {
                    var keyNumber = options.Sequential ? (sequence - 1) % options.KeySpace : random.Next(options.KeySpace);
                    var key = ByteString.CopyFromUtf8(random.NextDouble() < options.Conflict ? HotKey : $"bench/{keyNumber:D9}");
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await IssueAsync(channel, options.Kind, key, value, random, cancellationToken).ConfigureAwait(false);
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        Interlocked.Increment(ref succeeded);
                    }
                    catch (RpcException)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }, cancellationToken)).ToList();
            await Task.WhenAll(clients).ConfigureAwait(false);
            var elapsed = clock.Elapsed.TotalSeconds;
            var all = latencies.SelectMany(l => l ?? []).ToArray();
            Array.Sort(all);
            var result = new LoadResult(options, succeeded, failed, elapsed, all);
            if (options.CsvPath is { } csv)
            {
                var header = File.Exists(csv) ? "" : LoadResult.CsvHeader + Environment.NewLine;
                File.AppendAllText(csv, header + result.CsvLine() + Environment.NewLine);
            }
            return result;
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static Task IssueAsync(GrpcChannel channel, LoadKind kind, ByteString key, ByteString value, Random random, CancellationToken cancellationToken)
    {
        var options = new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10), CancellationToken: cancellationToken);
        if (kind == LoadKind.Mixed)
        {
            kind = random.Next(10) switch { < 5 => LoadKind.Put, < 8 => LoadKind.Range, _ => LoadKind.Txn };
        }
        return kind switch
        {
            LoadKind.Put => channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Key = key, Value = value }, options),
            LoadKind.Range => channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = key }, options),
            _ => channel.UnaryAsync(KVMethods.Txn, new Pb.TxnRequest
            {
                // A compare-and-put: succeeds when the key is absent or at any version (version >= 0), as clients do.
                Compare = { new Pb.Compare { Key = key, Target = Pb.Compare.Types.CompareTarget.Version, Result = Pb.Compare.Types.CompareResult.Greater, Version = -1 } },
                Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = key, Value = value } } },
            }, options),
        };
    }
}
