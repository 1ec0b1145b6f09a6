using System.Globalization;

namespace CurpStore.Bench.Load;

public enum LoadKind
{
    Put,
    Range,
    Txn,
    Mixed,
}

/// <summary>The load tool's command line: <c>put|range|txn|mixed --endpoints URLS --clients N (--total N | --seconds N)
/// --key-space N --conflict R --value-size N [--rate N --max-outstanding N] [--member-pids PIDS] [--target curp|etcd|curp-client]
/// [--csv FILE]</c>.</summary>
public sealed record LoadOptions
{
    public const string Usage = """
        usage: bench put|range|txn|mixed --endpoints URLS [--clients N] [--total N | --seconds N] [--key-space N]
                     [--conflict R] [--value-size N] [--sequential] [--rate N [--max-outstanding N]]
                     [--member-pids PIDS] [--target curp|etcd|curp-client] [--csv FILE]
                     [--key-prefix P] [--warmup SECONDS] [--samples FILE]
          --endpoints URLS   comma-separated etcd v3 client URLs (CurpStore or etcd)
          --clients N        concurrent clients, each with one request in flight (default 16)
          --total N          requests in all (default 10000), or --seconds N of load
          --key-space N      distinct keys (default 100000)
          --conflict R       fraction of requests on one shared hot key, 0..1 (default 0)
          --value-size N     bytes per value (default 256)
          --sequential       request i uses key i mod key-space instead of a random key (fills a store with
                             exactly --key-space keys when --total equals it)
          --rate N           open loop: N requests/s in all, issued on schedule whatever the answers (each client
                             N/clients per second); needs --seconds
          --max-outstanding N  open loop: requests one client may have unanswered (default 64); a request due
                             while that many are out is not sent and counts as failed ("load: ... outstanding")
          --member-pids PIDS comma-separated process ids of the members: their resident memory is sampled and the
                             highest peak (VmHWM) is reported
          --target T         the system under test: curp or etcd (both driven through etcd's API, named in the
                             report), or curp-client (CurpStore driven through the .NET client, which proposes
                             every write itself and reports how many completed fast, by commit notice or slowly)
          --csv FILE         append one line of results to FILE
          --cacert FILE      for https endpoints: the CA to trust (etcdctl's flag; default the system's roots)
          --cert FILE, --key FILE
                             for https endpoints: the client certificate and key to show
          --key-prefix P     other keys are bench/P/N instead of bench/N (load tools run side by side, as in the
                             geo benchmark, then share only the hot key)
          --warmup SECONDS   requests that start in the first SECONDS are left out of the latencies (default 0);
                             the counts of writes by path include them
          --samples FILE     write every measured request: start offset s, latency ms, hot key (1/0), commit path
        """;

    /// <summary>The target that drives CurpStore through <c>CurpStore.Client</c> instead of etcd's RPCs.</summary>
    public const string CurpClientTarget = "curp-client";

    public required LoadKind Kind { get; init; }

    public required IReadOnlyList<Uri> Endpoints { get; init; }

    public int Clients { get; init; } = 16;

    public int Total { get; init; } = 10_000;

    public int? Seconds { get; init; }

    public int KeySpace { get; init; } = 100_000;

    public double Conflict { get; init; }

    public int ValueSize { get; init; } = 256;

    public string Target { get; init; } = "curp";

    /// <summary>Keys in order (request i takes key i mod the key space) instead of at random.</summary>
    public bool Sequential { get; init; }

    public string? CsvPath { get; init; }

    public string? CaCertFile { get; init; }

    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>The TLS settings of https endpoints from <c>--cacert</c>, <c>--cert</c> and <c>--key</c>.</summary>
    public System.Net.Security.SslClientAuthenticationOptions SslOptions() => CurpStore.Rpc.ClientTls.FromPemFiles(CaCertFile, CertFile, KeyFile);

    /// <summary>Open loop: requests per second in all, sent on schedule whatever the answers; null for closed loop
    /// (each client waits for its answer before the next request).</summary>
    public int? RatePerSecond { get; init; }

    /// <summary>Open loop: unanswered requests one client may have; a request due beyond it fails in the tool.</summary>
    public int MaxOutstandingPerClient { get; init; } = 64;

    /// <summary>Member processes whose resident memory (<c>/proc/PID/status</c>) the run samples.</summary>
    public IReadOnlyList<int> MemberPids { get; init; } = [];
    /// <summary>Names the non-hot keys (bench/prefix/N), so load tools running side by side never share them.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>Requests that start before this many seconds are not measured (their paths are still counted).</summary>
    public int WarmupSeconds { get; init; }

    public string? SamplesPath { get; init; }

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new ArgumentException("missing the load kind (put, range, txn or mixed)");
        }
        var kind = args[0] switch
        {
            "put" => LoadKind.Put,
            "range" => LoadKind.Range,
            "txn" => LoadKind.Txn,
            "mixed" => LoadKind.Mixed,
            _ => throw new ArgumentException($"unknown load kind \"{args[0]}\": expected put, range, txn or mixed"),
        };
        IReadOnlyList<Uri>? endpoints = null;
        var options = new LoadOptions { Kind = kind, Endpoints = [] };
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            if (flag == "--sequential")
            {
                options = options with { Sequential = true };
                continue;
            }
            var value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{flag} needs a value");
            options = flag switch
            {
                "--endpoints" => options with { Endpoints = endpoints = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u))] },
                "--clients" => options with { Clients = Positive(flag, value, 100_000) },
                "--total" => options with { Total = Positive(flag, value, 100_000_000), Seconds = null },
                "--seconds" => options with { Seconds = Positive(flag, value, 86_400) },
                "--key-space" => options with { KeySpace = Positive(flag, value, 100_000_000) },
                "--conflict" => options with { Conflict = Fraction(flag, value) },
                "--value-size" => options with { ValueSize = Positive(flag, value, 1_500_000) },
                "--target" => options with
                {
                    Target = value is "curp" or "etcd" or CurpClientTarget ? value : throw new ArgumentException("--target must be curp, etcd or curp-client"),
                },
                "--csv" => options with { CsvPath = value },
                "--cacert" => options with { CaCertFile = value },
                "--cert" => options with { CertFile = value },
                "--key" => options with { KeyFile = value },
                "--rate" => options with { RatePerSecond = Positive(flag, value, 10_000_000) },
                "--max-outstanding" => options with { MaxOutstandingPerClient = Positive(flag, value, 1_000_000) },
                "--member-pids" => options with { MemberPids = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => Positive(flag, p, int.MaxValue))] },
                "--key-prefix" => options with { KeyPrefix = value },
                "--warmup" => options with { WarmupSeconds = Positive(flag, value, 3_600) },
                "--samples" => options with { SamplesPath = value },
                _ => throw new ArgumentException($"unknown flag {flag}"),
            };
        }
        if (options.RatePerSecond is not null && options.Seconds is null)
        {
            throw new ArgumentException("--rate needs --seconds (an open loop runs for a time, not a count)");
        }
        return endpoints is { Count: > 0 } ? options : throw new ArgumentException("--endpoints is required");
    }

    /// <summary>Parses a flag's whole number within 1..<paramref name="max"/> (shared with the restart tool).</summary>
    internal static int Positive(string flag, string value, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed >= 1 && parsed <= max
            ? parsed
            : throw new ArgumentException($"{flag} must be a whole number from 1 to {max}, got \"{value}\"");

    private static double Fraction(string flag, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and <= 1
            ? parsed
            : throw new ArgumentException($"{flag} must be between 0 and 1, got \"{value}\"");
}
