using System.Collections.Immutable;
using System.Globalization;
using CurpStore.Bench.Load;

namespace CurpStore.Bench.Geo;

/// <summary>The geo benchmark's command line: <c>geo [--out DIR] [--topologies A,B] [--systems S,...] [--conflicts
/// R,...] [--dotnet-client-conflicts R,...] [--seconds N] [--warmup N] [--warmup-round N] [--clients N] [--readme FILE] [--no-plots]</c>.</summary>
public sealed record GeoOptions
{
    public const string Usage = """
        usage: bench geo [--out DIR] [--topologies three-regions,five-regions] [--systems curpstore,curpstore-no-fast-path,etcd]
                         [--conflicts 0,0.01,0.1,0.5,1] [--dotnet-client-conflicts 0,1] [--seconds N] [--warmup N]
                         [--warmup-round N] [--clients N] [--readme FILE] [--no-plots]
          --out DIR                  where points.csv, samples/, plots and summary.md go (default bench/results/geo)
          --topologies LIST          topology files by name (geo-sim/topologies); one member per region
          --systems LIST             curpstore, curpstore-no-fast-path (--experimental-fast-path=false), etcd
          --conflicts LIST           fractions of writes on the one key every region writes (etcd-API clients)
          --dotnet-client-conflicts LIST
                                     the same for the .NET client, against curpstore only (empty: none)
          --seconds N                measured seconds per point (default 7), after --warmup N (default 2)
          --warmup-round N           seconds of unrecorded load on each fresh cluster before its first point (default 40)
          --clients N                concurrent clients per client region, one request in flight each (default 4)
          --readme FILE              replace the table between the geo-bench markers in FILE (default: none)
          --no-plots                 skip gnuplot
        """;

    public const string CurpStore = "curpstore";
    public const string CurpStoreNoFastPath = "curpstore-no-fast-path";
    public const string Etcd = "etcd";

    public string OutputDirectory { get; init; } = Path.Combine("bench", "results", "geo");

    public ImmutableArray<string> Topologies { get; init; } = ["three-regions", "five-regions"];

    public ImmutableArray<string> Systems { get; init; } = [CurpStore, CurpStoreNoFastPath, Etcd];

    public ImmutableArray<double> Conflicts { get; init; } = [0, 0.01, 0.1, 0.5, 1];

    public ImmutableArray<double> DotnetClientConflicts { get; init; } = [0, 1];

    public int MeasuredSeconds { get; init; } = 7;

    public int WarmupSeconds { get; init; } = 2;

    /// <summary>A fresh cluster's medians keep falling for about 40 s of load (us-east, five regions: 110 → 91 ms over the
    /// first five 9 s points; with 47 s of load before it the first point was at 1.04–1.09× the floor), so each rig gets
    /// this much unrecorded load before its first point.</summary>
    public int WarmupRoundSeconds { get; init; } = 40;

    public int ClientsPerRegion { get; init; } = 4;

    public string? ReadmePath { get; init; }

    public bool Plots { get; init; } = true;

    public static GeoOptions Parse(IReadOnlyList<string> args)
    {
        var options = new GeoOptions();
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            if (flag == "--no-plots")
            {
                options = options with { Plots = false };
                continue;
            }
            var value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{flag} needs a value");
            options = flag switch
            {
                "--out" => options with { OutputDirectory = value },
                "--topologies" => options with { Topologies = List(value) },
                "--systems" => options with
                {
                    Systems = List(value) is var systems && systems.All(s => s is CurpStore or CurpStoreNoFastPath or Etcd)
                        ? systems
                        : throw new ArgumentException($"--systems takes {CurpStore}, {CurpStoreNoFastPath} and {Etcd}, got \"{value}\""),
                },
                "--conflicts" => options with { Conflicts = Fractions(flag, value) },
                "--dotnet-client-conflicts" => options with { DotnetClientConflicts = Fractions(flag, value) },
                "--seconds" => options with { MeasuredSeconds = LoadOptions.Positive(flag, value, 3_600) },
                "--warmup" => options with { WarmupSeconds = LoadOptions.Positive(flag, value, 600) },
                "--warmup-round" => options with { WarmupRoundSeconds = LoadOptions.Positive(flag, value, 600) },
                "--clients" => options with { ClientsPerRegion = LoadOptions.Positive(flag, value, 256) },
                "--readme" => options with { ReadmePath = value },
                _ => throw new ArgumentException($"unknown flag {flag}"),
            };
        }
        return options.Topologies.Length > 0 && options.Systems.Length > 0 ? options : throw new ArgumentException("no topology or no system to run");
    }

    private static ImmutableArray<string> List(string value) => [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static ImmutableArray<double> Fractions(string flag, string value) =>
    [
        .. List(value).Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var fraction) && fraction is >= 0 and <= 1
            ? fraction
            : throw new ArgumentException($"{flag} takes fractions between 0 and 1, got \"{v}\"")),
    ];
}
