using System.Collections.Immutable;
using System.Globalization;
using CurpStore.Server.Auth;
using CurpStore.Server.Watch;
using YamlDotNet.RepresentationModel;

namespace CurpStore.Server.Configuration;

/// <summary>A configuration the server cannot start with; the message names the flag (or file key) and the problem.</summary>
public sealed class ServerOptionsException(string message) : Exception(message);

/// <summary>
/// Reads etcd-style flags (<c>--name value</c>, <c>--name=value</c>, and Go's single-dash forms), <c>ETCD_*</c>
/// environment variables, and a YAML or JSON <c>--config-file</c> with the same keys. As in etcd, a config file
/// replaces flags and environment (anything else given is ignored, with a warning).
/// </summary>
public static class ServerOptionsParser
{
    public const string Usage = """
        usage: curpstore [flags]
          --name NAME                         member name (default "default")
          --data-dir DIR                      where the member keeps its data (default "default.curpstore")
          --listen-client-urls URLS           comma-separated URLs to serve clients on (default http://127.0.0.1:2379)
          --advertise-client-urls URLS        client URLs told to the cluster (default http://127.0.0.1:2379)
          --listen-peer-urls URLS             URLs to serve other members on (default http://127.0.0.1:2380)
          --initial-advertise-peer-urls URLS  peer URLs told to the cluster (default http://127.0.0.1:2380)
          --listen-metrics-urls URLS          extra URLs serving /metrics and /health over HTTP/1.1 (default none)
          --initial-cluster NAME=URL,...      the members at bootstrap (default: this member alone)
          --initial-cluster-state new|existing
          --initial-cluster-token TOKEN       distinguishes clusters bootstrapped from the same config (default "etcd-cluster")
          --heartbeat-interval MS             (default 100)
          --election-timeout MS               (default 1000; at least 5 heartbeats)
          --strict-revisions                  answer writes only once their revision is final
          --experimental-fast-path=true|false CURP's fast path (default true); false: every write is ordered by the
                                              leader and answered after it is applied, as in Raft
          --snapshot-count N                  applied entries between snapshots (default 100000)
          --max-request-bytes N               largest write request accepted (default 1572864)
          --max-txn-ops N                     operations allowed in a txn (default 128)
          --experimental-max-writes-in-flight N
                                              Put, DeleteRange and Txn calls served at once (default 256); up to 16
                                              times as many wait for a place (at most 2 s), the rest get "too many
                                              requests". At most 65536; raise it where commits are slow (wide-area links)
          --experimental-corrupt-check-time DURATION
                                              how often the leader compares the members' HashKV (default 0: never)
          --strict-reconfig-check             refuse membership changes that could cost the quorum (default true)
          --experimental-initial-corrupt-check
                                              a restarted member compares its HashKV with its peers' before serving
          --quota-backend-bytes N             raise NOSPACE when the store would grow past N bytes (0: 2 GiB;
                                              negative: no quota)
          --auth-token simple|jwt,OPTIONS     tokens Authenticate hands out (default simple); jwt takes
                                              sign-method=RS256|PS256|ES256|HS256|...,priv-key=FILE,pub-key=FILE,ttl=5m
          --auth-token-ttl SECONDS            a simple token unused this long is forgotten (default 300)
          --experimental-watch-progress-notify-interval DURATION
                                              progress notifications to watchers that asked (default 10m0s)
          --cert-file FILE                    PEM certificate of https client URLs
          --key-file FILE                     its PEM private key
          --trusted-ca-file FILE              PEM CA that client certificates must chain to
          --client-cert-auth                  require a client certificate signed by --trusted-ca-file; with auth on,
                                              its common name is the user of calls without a token
          --peer-cert-file FILE               PEM certificate of https peer URLs, also shown when dialling members
          --peer-key-file FILE                its PEM private key
          --peer-trusted-ca-file FILE         PEM CA that other members' certificates must chain to
          --peer-client-cert-auth             require members dialling in to show a certificate signed by it
          --config-file PATH                  YAML or JSON file with the same keys; replaces flags and environment
          --log-level debug|info|warn|error   (default info)
          --version                           print the version and exit
        Every flag can also come from an environment variable: ETCD_NAME, ETCD_DATA_DIR, ...
        """;

    private static readonly ImmutableHashSet<string> BooleanFlags = ["strict-revisions", "strict-reconfig-check", "experimental-initial-corrupt-check", "experimental-fast-path", "version", "help", "client-cert-auth", "peer-client-cert-auth"];

    /// <summary>The config file's TLS sections (etcd's YAML keys) and the flag each of their keys stands for.</summary>
    private static readonly ImmutableDictionary<string, string> TransportSecuritySections = new Dictionary<string, string>
    {
        ["client-transport-security"] = "",
        ["peer-transport-security"] = "peer-",
    }.ToImmutableDictionary();

    private static readonly ImmutableArray<string> TransportSecurityKeys = ["cert-file", "key-file", "trusted-ca-file", "client-cert-auth"];

    /// <summary>The flags this parser knows, as etcd spells them.</summary>
    public static readonly ImmutableHashSet<string> KnownFlags =
    [
        "name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls", "initial-advertise-peer-urls",
        "initial-cluster", "initial-cluster-state", "initial-cluster-token", "heartbeat-interval", "election-timeout",
        "strict-revisions", "snapshot-count", "max-request-bytes", "max-txn-ops", "quota-backend-bytes", "experimental-corrupt-check-time", "experimental-initial-corrupt-check", "strict-reconfig-check", "config-file", "log-level", "version", "help",
        "experimental-watch-progress-notify-interval", "auth-token", "auth-token-ttl", "listen-metrics-urls",
        "cert-file", "key-file", "trusted-ca-file", "client-cert-auth", "peer-cert-file", "peer-key-file", "peer-trusted-ca-file",
        "peer-client-cert-auth",
        "experimental-fast-path", "experimental-max-writes-in-flight",
    ];

    /// <summary>Parses a command line (and the environment) into options plus the warnings an operator should see.</summary>
    public static ParsedCommandLine Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var values = ParseFlags(args);
        var warnings = new List<string>();
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>())
        {
            if (!variable.StartsWith("ETCD_", StringComparison.Ordinal))
            {
                continue;
            }
            var flag = variable["ETCD_".Length..].ToLowerInvariant().Replace('_', '-');
            if (!KnownFlags.Contains(flag))
            {
                warnings.Add($"unrecognized environment variable {variable}={value}");
            }
            else if (values.ContainsKey(flag))
            {
                throw new ServerOptionsException($"conflicting environment variable \"{variable}\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)");
            }
            else
            {
                values[flag] = value;
            }
        }
        if (values.ContainsKey("version") || values.ContainsKey("help"))
        {
            return new ParsedCommandLine(new ServerOptions(), warnings, values.ContainsKey("version"), values.ContainsKey("help"));
        }
        if (values.TryGetValue("config-file", out var configFile))
        {
            var ignored = values.Keys.Where(k => k != "config-file").Order(StringComparer.Ordinal).ToList();
            if (ignored.Count > 0)
            {
                warnings.Add($"--config-file given: ignoring the other flags and environment ({string.Join(", ", ignored.Select(k => "--" + k))}), as etcd does");
            }
            values = ReadConfigFile(configFile);
            values["config-file"] = configFile;
        }
        return new ParsedCommandLine(Build(values), warnings, false, false);
    }

    private static Dictionary<string, string> ParseFlags(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new ServerOptionsException($"unexpected argument \"{arg}\" (flags start with --)");
            }
            var body = arg.TrimStart('-');
            string? value = null;
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = body[(equals + 1)..];
                body = body[..equals];
            }
            if (!KnownFlags.Contains(body))
            {
                throw new ServerOptionsException($"flag provided but not defined: -{body}");
            }
            if (value is null)
            {
                if (BooleanFlags.Contains(body))
                {
                    value = "true";
                }
                else if (i + 1 < args.Count)
                {
                    value = args[++i];
                }
                else
                {
                    throw new ServerOptionsException($"flag needs an argument: -{body}");
                }
            }
            if (!values.TryAdd(body, value))
            {
                throw new ServerOptionsException($"flag given twice: --{body}");
            }
        }
        return values;
    }

    private static Dictionary<string, string> ReadConfigFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerOptionsException($"cannot read --config-file {path}: {e.Message}");
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ServerOptionsException($"--config-file {path}: not YAML or JSON at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0)
        {
            return values;
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ServerOptionsException($"--config-file {path}: expected a mapping of keys to values");
        }
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (TransportSecuritySections.TryGetValue(key, out var prefix))
            {
                ReadTransportSecurity(path, key, prefix, valueNode, values);
                continue;
            }
            if (!KnownFlags.Contains(key) || key == "config-file")
            {
                throw new ServerOptionsException($"--config-file {path}: unknown key \"{key}\"");
            }
            values[key] = valueNode switch
            {
                YamlScalarNode scalar => scalar.Value ?? "",
                YamlSequenceNode sequence => string.Join(',', sequence.Children.Select(c => ((YamlScalarNode)c).Value)),
                _ => throw new ServerOptionsException($"--config-file {path}: key \"{key}\" must be a value or a list"),
            };
        }
        return values;
    }

    /// <summary>etcd's <c>client-transport-security</c> / <c>peer-transport-security</c> mapping: its keys become
    /// the matching flags (<c>cert-file</c> or <c>peer-cert-file</c>, ...). <c>auto-tls</c> is not supported.</summary>
    private static void ReadTransportSecurity(string path, string section, string prefix, YamlNode node, Dictionary<string, string> values)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw new ServerOptionsException($"--config-file {path}: key \"{section}\" must be a mapping");
        }
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!TransportSecurityKeys.Contains(key) || valueNode is not YamlScalarNode scalar)
            {
                throw new ServerOptionsException($"--config-file {path}: unknown or non-scalar key \"{section}.{key}\"");
            }
            values[prefix + key] = scalar.Value ?? "";
        }
    }

    private static ServerOptions Build(Dictionary<string, string> values)
    {
        var options = new ServerOptions();
        foreach (var (flag, value) in values)
        {
            options = flag switch
            {
                "name" => options with { Name = NonEmpty(flag, value) },
                "data-dir" => options with { DataDir = NonEmpty(flag, value) },
                "listen-client-urls" => options with { ListenClientUrls = Urls(flag, value) },
                "advertise-client-urls" => options with { AdvertiseClientUrls = Urls(flag, value) },
                "listen-peer-urls" => options with { ListenPeerUrls = Urls(flag, value) },
                "listen-metrics-urls" => options with { ListenMetricsUrls = Urls(flag, value) },
                "initial-advertise-peer-urls" => options with { InitialAdvertisePeerUrls = Urls(flag, value) },
                "initial-cluster" => options with { InitialCluster = Cluster(value) },
                "initial-cluster-state" => options with
                {
                    InitialClusterState = value switch
                    {
                        "new" => ClusterState.New,
                        "existing" => ClusterState.Existing,
                        _ => throw new ServerOptionsException($"invalid value \"{value}\" for flag -initial-cluster-state: valid values are \"new\", \"existing\""),
                    }
                },
                "initial-cluster-token" => options with { InitialClusterToken = NonEmpty(flag, value) },
                "heartbeat-interval" => options with { HeartbeatIntervalMs = PositiveInt(flag, value) },
                "election-timeout" => options with { ElectionTimeoutMs = PositiveInt(flag, value) },
                "strict-revisions" => options with { StrictRevisions = Bool(flag, value) },
                "experimental-initial-corrupt-check" => options with { InitialCorruptCheck = Bool(flag, value) },
                "strict-reconfig-check" => options with { StrictReconfigCheck = Bool(flag, value) },
                "experimental-fast-path" => options with { FastPath = Bool(flag, value) },
                "snapshot-count" => options with { SnapshotCount = PositiveInt(flag, value) },
                "max-request-bytes" => options with { MaxRequestBytes = PositiveInt(flag, value) },
                "max-txn-ops" => options with { MaxTxnOps = PositiveInt(flag, value) },
                "experimental-max-writes-in-flight" => options with { MaxWritesInFlight = PositiveInt(flag, value, ServerOptions.MaxWritesInFlightLimit) },
                "quota-backend-bytes" => options with { QuotaBackendBytes = Int64(flag, value) },
                "experimental-corrupt-check-time" => options with { CorruptCheckInterval = GoDuration(flag, value) },
                "config-file" => options with { ConfigFile = value },
                "cert-file" => options with { ClientTls = options.ClientTls with { CertFile = value } },
                "key-file" => options with { ClientTls = options.ClientTls with { KeyFile = value } },
                "trusted-ca-file" => options with { ClientTls = options.ClientTls with { TrustedCaFile = value } },
                "client-cert-auth" => options with { ClientTls = options.ClientTls with { ClientCertAuth = Bool(flag, value) } },
                "peer-cert-file" => options with { PeerTls = options.PeerTls with { CertFile = value } },
                "peer-key-file" => options with { PeerTls = options.PeerTls with { KeyFile = value } },
                "peer-trusted-ca-file" => options with { PeerTls = options.PeerTls with { TrustedCaFile = value } },
                "peer-client-cert-auth" => options with { PeerTls = options.PeerTls with { ClientCertAuth = Bool(flag, value) } },
                "auth-token" => options with { AuthToken = AuthToken(value) with { SimpleTokenTtlSeconds = options.AuthToken.SimpleTokenTtlSeconds } },
                "auth-token-ttl" => options with { AuthToken = options.AuthToken with { SimpleTokenTtlSeconds = PositiveInt(flag, value) } },
                "experimental-watch-progress-notify-interval" => options with { Watch = options.Watch with { ProgressNotifyInterval = ProgressInterval(flag, value) } },
                "log-level" => options with
                {
                    LogLevel = value switch
                    {
                        "debug" => LogLevel.Debug,
                        "info" => LogLevel.Info,
                        "warn" => LogLevel.Warn,
                        "error" => LogLevel.Error,
                        _ => throw new ServerOptionsException($"invalid value \"{value}\" for flag -log-level: valid values are debug, info, warn, error"),
                    }
                },
                _ => options,
            };
        }
        Validate(options);
        return options;
    }

    private static void Validate(ServerOptions options)
    {
        if (options.ElectionTimeoutMs < 5 * options.HeartbeatIntervalMs)
        {
            throw new ServerOptionsException(
                $"--election-timeout[{options.ElectionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[{options.HeartbeatIntervalMs}ms]");
        }
        if (options.ElectionTimeoutMs > 50_000)
        {
            throw new ServerOptionsException($"--election-timeout[{options.ElectionTimeoutMs}ms] is too long, and should be set less than 50 seconds");
        }
        var cluster = options.EffectiveInitialCluster;
        var own = cluster.Where(m => m.Name == options.Name).Select(m => m.PeerUrl).ToHashSet();
        if (own.Count == 0)
        {
            throw new ServerOptionsException(
                $"couldn't find local name \"{options.Name}\" in the initial cluster configuration ({string.Join(',', cluster.Select(m => $"{m.Name}={m.PeerUrl}"))})");
        }
        if (!own.SetEquals(options.InitialAdvertisePeerUrls))
        {
            throw new ServerOptionsException(
                $"--initial-cluster has {options.Name}={string.Join(',', own)} but missing from --initial-advertise-peer-urls={string.Join(',', options.InitialAdvertisePeerUrls)}");
        }
        ValidateTls(options);
        var duplicate = cluster.GroupBy(m => m.PeerUrl).FirstOrDefault(g => g.Select(m => m.Name).Distinct().Count() > 1);
        if (duplicate is not null)
        {
            throw new ServerOptionsException($"--initial-cluster: peer URL {duplicate.Key} is given to more than one member ({string.Join(", ", duplicate.Select(m => m.Name))})");
        }
    }

    /// <summary>etcd's checks and messages: an https URL needs the side's certificate and key.</summary>
    private static void ValidateTls(ServerOptions options)
    {
        if (options.ClientTls.IsEmpty && options.ListenClientUrls.FirstOrDefault(u => u.Scheme == "https") is { } client)
        {
            throw new ServerOptionsException($"TLS key/cert (--cert-file, --key-file) must be provided for client url {client.GetLeftPart(UriPartial.Authority)} with HTTPS scheme");
        }
        if (options.PeerTls.IsEmpty && options.ListenPeerUrls.FirstOrDefault(u => u.Scheme == "https") is { } peer)
        {
            throw new ServerOptionsException($"cannot listen on TLS for {peer.Authority}: KeyFile and CertFile are not presented");
        }
        foreach (var (side, tls) in new[] { ("", options.ClientTls), ("peer-", options.PeerTls) })
        {
            if (!tls.IsEmpty && (string.IsNullOrEmpty(tls.CertFile) || string.IsNullOrEmpty(tls.KeyFile)))
            {
                throw new ServerOptionsException($"--{side}cert-file and --{side}key-file must be given together");
            }
        }
    }

    private static AuthTokenOptions AuthToken(string value)
    {
        try
        {
            return AuthTokenOptions.Parse(value);
        }
        catch (FormatException e)
        {
            throw new ServerOptionsException(e.Message); // etcd's own words: "auth: invalid auth options"
        }
    }

    private static string NonEmpty(string flag, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new ServerOptionsException($"--{flag} must not be empty") : value;

    private static int PositiveInt(string flag, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
            ? parsed
            : throw new ServerOptionsException($"invalid value \"{value}\" for flag -{flag}: expected a positive number");

    private static int PositiveInt(string flag, string value, int max) =>
        PositiveInt(flag, value) is var parsed && parsed <= max
            ? parsed
            : throw new ServerOptionsException($"invalid value \"{value}\" for flag -{flag}: at most {max}");

    private static long Int64(string flag, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new ServerOptionsException($"invalid value \"{value}\" for flag -{flag}: parse error");

    /// <summary>As etcd: 0 keeps the default, anything shorter than the minimum is raised to it.</summary>
    private static TimeSpan ProgressInterval(string flag, string value)
    {
        var interval = GoDuration(flag, value);
        return interval == TimeSpan.Zero ? new WatchOptions().ProgressNotifyInterval
            : interval < WatchOptions.MinProgressNotifyInterval ? WatchOptions.MinProgressNotifyInterval
            : interval;
    }

    /// <summary>A Go duration as etcd's flags take it: a sequence of decimal numbers with units (ns, us, µs, ms, s, m,
    /// h), such as "10m", "1h30m" or "1.5s"; "0" alone is allowed. Go's flag package reports "parse error".</summary>
    internal static TimeSpan GoDuration(string flag, string value)
    {
        var parseError = new ServerOptionsException($"invalid value \"{value}\" for flag -{flag}: parse error");
        var text = value.StartsWith('+') ? value[1..] : value;
        if (text == "0")
        {
            return TimeSpan.Zero;
        }
        if (text.Length == 0 || text.StartsWith('-'))
        {
            throw parseError; // a negative interval means nothing here
        }
        decimal nanoseconds = 0;
        var position = 0;
        while (position < text.Length)
        {
            var numberStart = position;
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] == '.'))
            {
                position++;
            }
            var unitStart = position;
            while (position < text.Length && !char.IsAsciiDigit(text[position]) && text[position] != '.')
            {
                position++;
            }
            if (!decimal.TryParse(text[numberStart..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                throw parseError;
            }
            decimal unitNanoseconds = text[unitStart..position] switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => throw parseError,
            };
            nanoseconds += number * unitNanoseconds;
        }
        return TimeSpan.FromTicks((long)(nanoseconds / 100m));
    }

    private static bool Bool(string flag, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new ServerOptionsException($"invalid boolean value \"{value}\" for -{flag}"),
    };

    private static ImmutableArray<Uri> Urls(string flag, string value)
    {
        var urls = ImmutableArray.CreateBuilder<Uri>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            urls.Add(Url(flag, part));
        }
        return urls.Count > 0 ? urls.ToImmutable() : throw new ServerOptionsException($"--{flag} needs at least one URL");
    }

    private static Uri Url(string flag, string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https" && url.Scheme != "unix" && url.Scheme != "unixs"))
        {
            throw new ServerOptionsException($"--{flag}: URL scheme must be http, https, unix, or unixs: {text}");
        }
        if (url.Scheme is "http" or "https" && (url.IsDefaultPort && !text.Contains($":{url.Port}", StringComparison.Ordinal)))
        {
            throw new ServerOptionsException($"--{flag}: URL address does not have the form \"host:port\": {text}");
        }
        if (url.AbsolutePath != "/" && url.AbsolutePath.Length > 0)
        {
            throw new ServerOptionsException($"--{flag}: URL must not contain a path: {text}");
        }
        return url;
    }

    private static ImmutableArray<InitialMember> Cluster(string value)
    {
        var members = ImmutableArray.CreateBuilder<InitialMember>();
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ServerOptionsException($"--initial-cluster: \"{pair}\" is not name=url");
            }
            members.Add(new InitialMember(pair[..equals], Url("initial-cluster", pair[(equals + 1)..])));
        }
        return members.Count > 0 ? members.ToImmutable() : throw new ServerOptionsException("--initial-cluster needs at least one name=url");
    }
}

public sealed record ParsedCommandLine(ServerOptions Options, IReadOnlyList<string> Warnings, bool PrintVersion, bool PrintHelp);
