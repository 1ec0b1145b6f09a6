using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CurpStore.GeoSim;

/// <summary>The outcome of one simulated run: latency per client region against the floor, the trace
/// hash that identifies the run, and the checkers' verdicts.</summary>
/// <remarks>
/// <para>
/// Two renderings: an aligned table for people, and one JSON object per run (snake_case) for
/// scripts, sweeps and CI, which compare <c>trace_hash</c> across replays and fail on
/// <c>violations</c> &gt; 0. Numbers always use the invariant culture so a report reads the same
/// on every machine.
/// </para>
/// <para>
/// <see cref="Checks"/> is free-form (checker counters, network drop counts…) and sorted by name so
/// the output is deterministic.
/// </para>
/// </remarks>
public sealed class SimReport
{
    /// <summary>Hex trace hash of the run (same seed, same hash).</summary>
    public string TraceHash { get; set; } = "";

    /// <summary>Fast-path writes / all writes, over all regions.</summary>
    public double FastPathRatio { get; set; }

    /// <summary>Safety violations found by the checkers; anything but 0 is a bug.</summary>
    public int Violations { get; set; }

    /// <summary>Seed of the run.</summary>
    public ulong Seed { get; set; }

    /// <summary>Write path used.</summary>
    public ProtocolMode Mode { get; set; }

    /// <summary>Cluster size.</summary>
    public int Nodes { get; set; }

    /// <summary>Rows, one per client region, in the order added.</summary>
    public List<RegionReport> Regions { get; } = [];

    /// <summary>Named counters (checks run, operations checked, messages dropped…).</summary>
    public SortedDictionary<string, long> Checks { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes a human-readable summary with an aligned per-region table.</summary>
    public void WriteText(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(
            $"seed {Seed.ToString(CultureInfo.InvariantCulture)}  mode {SimOptionsParser.Name(Mode)}  " +
            $"nodes {Nodes.ToString(CultureInfo.InvariantCulture)}  trace {TraceHash}");

        string[] header = ["region", "count", "p50 ms", "p99 ms", "fast p50", "slow p50", "fast %", "floor ms"];
        var rows = new List<string[]> { header };
        rows.AddRange(Regions.Select(r => new[]
        {
            r.Region,
            r.Count.ToString(CultureInfo.InvariantCulture),
            Ms(r.P50Ms),
            Ms(r.P99Ms),
            Ms(r.FastP50Ms),
            Ms(r.SlowP50Ms),
            Percent(r.FastPathRatio),
            Ms(r.FloorMs),
        }));

        int[] widths = Enumerable.Range(0, header.Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            var line = new StringBuilder();
            for (int c = 0; c < row.Length; c++)
            {
                if (c > 0)
                {
                    line.Append("  ");
                }

                // Region names read best left-aligned, numbers right-aligned.
                line.Append(c == 0 ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]));
            }

            writer.WriteLine(line.ToString().TrimEnd());
        }

        writer.WriteLine(
            $"fast path {Percent(FastPathRatio)}  violations {Violations.ToString(CultureInfo.InvariantCulture)}");
        if (Checks.Count > 0)
        {
            int nameWidth = Checks.Keys.Max(k => k.Length);
            foreach (var (name, value) in Checks)
            {
                writer.WriteLine($"  {name.PadRight(nameWidth)}  {value.ToString(CultureInfo.InvariantCulture)}");
            }
        }
    }

    /// <summary>The report as one JSON object with snake_case names.</summary>
    public string ToJson(bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            json.WriteStartObject();
            json.WriteString("trace_hash", TraceHash);
            json.WriteNumber("seed", Seed);
            json.WriteString("mode", SimOptionsParser.Name(Mode));
            json.WriteNumber("nodes", Nodes);
            WriteNumber(json, "fast_path_ratio", Round(FastPathRatio, 4));
            json.WriteNumber("violations", Violations);
            json.WriteStartArray("regions");
            foreach (RegionReport r in Regions)
            {
                json.WriteStartObject();
                json.WriteString("region", r.Region);
                json.WriteNumber("count", r.Count);
                WriteNumber(json, "p50_ms", RoundMs(r.P50Ms));
                WriteNumber(json, "p99_ms", RoundMs(r.P99Ms));
                WriteNumber(json, "fast_p50_ms", RoundMs(r.FastP50Ms));
                WriteNumber(json, "slow_p50_ms", RoundMs(r.SlowP50Ms));
                WriteNumber(json, "fast_path_ratio", Round(r.FastPathRatio, 4));
                WriteNumber(json, "floor_ms", RoundMs(r.FloorMs));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("checks");
            foreach (var (name, value) in Checks)
            {
                json.WriteNumber(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Microsecond resolution is the simulator's time grain; more digits would be noise.</summary>
    private static double? RoundMs(double? ms) => Round(ms, 3);

    private static double? Round(double? value, int digits) =>
        value is double v && double.IsFinite(v) ? Math.Round(v, digits, MidpointRounding.AwayFromZero) : null;

    /// <summary>JSON has no NaN or infinity; such values (and missing ones) are written as null.</summary>
    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Ms(double? ms) =>
        ms is double v && double.IsFinite(v) ? v.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string Percent(double ratio) =>
        double.IsFinite(ratio) ? (ratio * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
}
