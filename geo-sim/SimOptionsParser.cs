using System.Globalization;

namespace CurpStore.GeoSim;

/// <summary>Parses the simulator's command line into <see cref="SimOptions"/>.</summary>
/// <remarks>
/// Hand-written rather than a package: the grammar is a dozen flags, and the simulator should stay
/// free of dependencies that could change its behaviour. Every mistake (unknown flag, missing
/// value, value out of range, flag given twice) is a <see cref="SimOptionsException"/> naming the
/// flag, never a silent default, because a sweep that quietly ran the wrong configuration wastes
/// hours. Both <c>--flag value</c> and <c>--flag=value</c> are accepted.
/// </remarks>
public static class SimOptionsParser
{
    /// <summary>Most simulated clients; a bound so a typo cannot ask for billions of them.</summary>
    public const int MaxClients = 100_000;

    /// <summary>Most virtual seconds in one run (a day).</summary>
    public const int MaxSeconds = 86_400;

    /// <summary>Most seeds in one sweep.</summary>
    public const int MaxSweep = 1_000_000;

    /// <summary>Usage text printed for <c>--help</c> and after an error.</summary>
    public const string Usage =
        """
        usage: geo-sim [options]
          --topology <path>        region file (default geo-sim/topologies/three-regions.json)
          --nodes 3|5|7            cluster size (default 3)
          --clients N              simulated clients, 1..100000 (default 16)
          --conflict P             probability 0..1 that a write conflicts (default 0)
          --seconds N              virtual seconds of workload, 1..86400 (default 30)
          --seed N                 root seed, 0..18446744073709551615 (default 1)
          --faults none|crash|partition|all   faults in the safety phase (default none)
          --mode curp|raft         write path (default curp)
          --json                   print the report as JSON
          --leader-region NAME     preferred leader region (default: the topology's leader_region)
          --strict                 strict revisions: a write is answered once its log position is final; checked against the strict model
          --machine etcd|kv        replicated state machine: the etcd store (default) or the small KV model
          --sweep N                run N consecutive seeds starting at --seed, 1..1000000
          --help, -h               print this text
        """;

    private static readonly HashSet<string> BooleanFlags = new(StringComparer.Ordinal) { "--json", "--strict", "--help", "-h" };

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="SimOptionsException">Unknown flag, missing or invalid value, or a flag given twice.</exception>
    public static SimOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new SimOptions();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i] ?? throw new SimOptionsException("null argument");
            string flag = arg;
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                flag = arg[..equals];
                value = arg[(equals + 1)..];
            }

            if (!IsKnown(flag))
            {
                throw new SimOptionsException(
                    arg.StartsWith('-') ? $"unknown flag {flag}" : $"unexpected argument \"{arg}\" (flags start with --)");
            }

            string canonical = flag == "-h" ? "--help" : flag;
            if (!seen.Add(canonical))
            {
                throw new SimOptionsException($"{canonical} is given twice");
            }

            if (BooleanFlags.Contains(flag))
            {
                if (value is not null)
                {
                    throw new SimOptionsException($"{flag} takes no value");
                }
            }
            else if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new SimOptionsException($"{flag} needs a value");
                }

                value = args[++i];
            }

            options = Apply(options, canonical, value);
        }

        return options;
    }

    /// <summary>Lowercase command-line spelling of a fault mode.</summary>
    public static string Name(FaultMode faults) => faults switch
    {
        FaultMode.None => "none",
        FaultMode.Crash => "crash",
        FaultMode.Partition => "partition",
        FaultMode.All => "all",
        _ => throw new ArgumentOutOfRangeException(nameof(faults), faults, null),
    };

    /// <summary>Lowercase command-line spelling of a protocol mode.</summary>
    public static string Name(ProtocolMode mode) => mode switch
    {
        ProtocolMode.Curp => "curp",
        ProtocolMode.Raft => "raft",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>Lowercase command-line spelling of a state machine kind.</summary>
    public static string Name(MachineKind machine) => machine switch
    {
        MachineKind.Etcd => "etcd",
        MachineKind.Kv => "kv",
        _ => throw new ArgumentOutOfRangeException(nameof(machine), machine, null),
    };

    private static bool IsKnown(string flag) => flag switch
    {
        "--topology" or "--nodes" or "--clients" or "--conflict" or "--seconds" or "--seed"
            or "--faults" or "--mode" or "--json" or "--leader-region" or "--strict" or "--sweep" or "--machine"
            or "--help" or "-h" => true,
        _ => false,
    };

    private static SimOptions Apply(SimOptions options, string flag, string? value) => flag switch
    {
        "--topology" => options with { TopologyPath = NonEmpty(flag, value!) },
        "--nodes" => options with { Nodes = Nodes(value!) },
        "--clients" => options with { Clients = Int(flag, value!, 1, MaxClients) },
        "--conflict" => options with { Conflict = Probability(flag, value!) },
        "--seconds" => options with { Seconds = Int(flag, value!, 1, MaxSeconds) },
        "--seed" => options with { Seed = Seed(value!) },
        "--faults" => options with { Faults = Faults(value!) },
        "--mode" => options with { Mode = Mode(value!) },
        "--json" => options with { Json = true },
        "--leader-region" => options with { LeaderRegion = NonEmpty(flag, value!) },
        "--strict" => options with { Strict = true },
        "--machine" => options with
        {
            Machine = value switch
            {
                "etcd" => MachineKind.Etcd,
                "kv" => MachineKind.Kv,
                _ => throw new SimOptionsException($"--machine must be etcd or kv, got \"{value}\""),
            }
        },
        "--sweep" => options with { Sweep = Int(flag, value!, 1, MaxSweep) },
        "--help" => options with { Help = true },
        _ => throw new SimOptionsException($"unknown flag {flag}"),
    };

    private static string NonEmpty(string flag, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new SimOptionsException($"{flag} needs a non-empty value") : value;

    private static int Nodes(string value)
    {
        int nodes = Int("--nodes", value, int.MinValue, int.MaxValue);
        return nodes is 3 or 5 or 7
            ? nodes
            : throw new SimOptionsException($"--nodes must be 3, 5 or 7, got {nodes}");
    }

    private static int Int(string flag, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed))
        {
            throw new SimOptionsException($"{flag} needs a whole number, got \"{value}\"");
        }

        if (parsed < min || parsed > max)
        {
            throw new SimOptionsException($"{flag} must be in {min}..{max}, got {parsed}");
        }

        return parsed;
    }

    private static double Probability(string flag, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
            || !double.IsFinite(parsed))
        {
            throw new SimOptionsException($"{flag} needs a number, got \"{value}\"");
        }

        if (parsed < 0 || parsed > 1)
        {
            throw new SimOptionsException(
                $"{flag} must be in 0..1, got {parsed.ToString(CultureInfo.InvariantCulture)}");
        }

        return parsed;
    }

    private static ulong Seed(string value) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? seed
            : throw new SimOptionsException(
                $"--seed needs a whole number in 0..{ulong.MaxValue.ToString(CultureInfo.InvariantCulture)}, got \"{value}\"");

    private static FaultMode Faults(string value) => value switch
    {
        "none" => FaultMode.None,
        "crash" => FaultMode.Crash,
        "partition" => FaultMode.Partition,
        "all" => FaultMode.All,
        _ => throw new SimOptionsException($"--faults must be none, crash, partition or all, got \"{value}\""),
    };

    private static ProtocolMode Mode(string value) => value switch
    {
        "curp" => ProtocolMode.Curp,
        "raft" => ProtocolMode.Raft,
        _ => throw new SimOptionsException($"--mode must be curp or raft, got \"{value}\""),
    };
}
