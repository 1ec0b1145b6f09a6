using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CurpStore.Server.Tests.Metrics;

/// <summary>One sample line: its name (with a histogram's _bucket/_sum/_count suffix), labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;
}

/// <summary>A metric family: HELP, TYPE and its samples in the order they came.</summary>
internal sealed record PrometheusFamily(string Name, string Help, string Type, IReadOnlyList<PrometheusSample> Samples);

/// <summary>
/// A strict parser of Prometheus text format 0.0.4, for checking what <c>GET /metrics</c> serves: every family has
/// exactly one HELP and one TYPE line before its samples and its samples are together; names and label names are
/// valid, label values use only the format's escapes, no label name repeats in a sample and no series repeats; values
/// are floats (or +Inf, -Inf, NaN); counters are not negative; a histogram has, per label set, buckets with increasing
/// <c>le</c> and non-decreasing counts, a <c>+Inf</c> bucket equal to its <c>_count</c>, and a <c>_sum</c>. Anything
/// else throws <see cref="FormatException"/> naming the line.
/// </summary>
internal static partial class PrometheusText
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static IReadOnlyDictionary<string, PrometheusFamily> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition must end with a line feed");
        }
        var families = new Dictionary<string, (string? Help, string? Type, List<PrometheusSample> Samples)>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n')[..^1];
        for (var number = 1; number <= lines.Length; number++)
        {
            var line = lines[number - 1];
            FormatException Error(string what) => new($"line {number}: {what}: {line}");
            if (line.Length == 0)
            {
                continue;
            }
            if (line.StartsWith('#'))
            {
                var match = MetaLine().Match(line);
                if (!match.Success)
                {
                    throw Error("a comment that is not a HELP or TYPE line");
                }
                var (keyword, name, rest) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
                Enter(name);
                var family = families[name];
                if (family.Samples.Count > 0)
                {
                    throw Error($"{keyword} after the family's samples");
                }
                if (keyword == "HELP")
                {
                    family.Help = family.Help is null ? UnescapeHelp(rest, Error) : throw Error("a second HELP");
                }
                else
                {
                    family.Type = family.Type is not null ? throw Error("a second TYPE") : Types.Contains(rest) ? rest : throw Error("an unknown type");
                }
                families[name] = family;
                continue;
            }
            var sample = ParseSample(line, Error);
            var owner = FamilyOf(sample.Name, families);
            if (owner is null)
            {
                throw Error("a sample of no declared family (TYPE missing)");
            }
            if (owner != current)
            {
                Enter(owner);
            }
            var key = sample.Name + "{" + string.Join(',', sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
            if (!series.Add(key))
            {
                throw Error("a repeated series");
            }
            var declared = families[owner];
            if (declared.Help is null || declared.Type is null)
            {
                throw Error("a sample before both HELP and TYPE of its family");
            }
            if (declared.Type == "counter" && !(sample.Value >= 0))
            {
                throw Error("a counter below 0");
            }
            if (sample.Name != owner && declared.Type != "histogram" && declared.Type != "summary")
            {
                throw Error($"a sample named other than its {declared.Type} family");
            }
            declared.Samples.Add(sample);
        }

        void Enter(string name)
        {
            if (current != name && current is not null)
            {
                closed.Add(current);
            }
            if (closed.Contains(name))
            {
                throw new FormatException($"family {name} appears again after another family");
            }
            current = name;
            families.TryAdd(name, (null, null, []));
        }

        var result = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        foreach (var (name, (help, type, samples)) in families)
        {
            if (help is null || type is null)
            {
                throw new FormatException($"family {name} lacks its {(help is null ? "HELP" : "TYPE")} line");
            }
            var family = new PrometheusFamily(name, help, type, samples);
            if (type == "histogram")
            {
                CheckHistogram(family);
            }
            result[name] = family;
        }
        return result;
    }

    /// <summary>The single sample named <paramref name="name"/> (a family, or a histogram's _bucket/_sum/_count) with
    /// these labels; 0 when the family has no such series.</summary>
    public static double Value(this IReadOnlyDictionary<string, PrometheusFamily> families, string name, params (string Label, string Value)[] labels)
    {
        var family = families.GetValueOrDefault(name)
            ?? new[] { "_bucket", "_sum", "_count" }.Where(suffix => name.EndsWith(suffix, StringComparison.Ordinal))
                .Select(suffix => families.GetValueOrDefault(name[..^suffix.Length])).FirstOrDefault(f => f is not null)
            ?? throw new KeyNotFoundException($"no metric family holds {name}");
        var matching = family.Samples.Where(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value))).ToList();
        return matching.Count switch
        {
            0 => 0,
            1 => matching[0].Value,
            _ => throw new InvalidOperationException($"{matching.Count} series of {name} match"),
        };
    }

    private static void CheckHistogram(PrometheusFamily family)
    {
        var name = family.Name;
        foreach (var group in family.Samples.GroupBy(s => string.Join(',', s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))))
        {
            var where = $"histogram {name}{{{group.Key}}}";
            var buckets = group.Where(s => s.Name == name + "_bucket").ToList();
            if (buckets.Any(b => !b.Labels.ContainsKey("le")) || group.Any(s => s.Name != name + "_bucket" && s.Labels.ContainsKey("le")))
            {
                throw new FormatException($"{where}: le belongs on every bucket and nowhere else");
            }
            var bounds = buckets.Select(b => ParseValue(b.Labels["le"]) ?? throw new FormatException($"{where}: bad le {b.Labels["le"]}")).ToList();
            for (var i = 1; i < buckets.Count; i++)
            {
                if (!(bounds[i] > bounds[i - 1]))
                {
                    throw new FormatException($"{where}: le {bounds[i]} does not follow {bounds[i - 1]}");
                }
                if (buckets[i].Value < buckets[i - 1].Value)
                {
                    throw new FormatException($"{where}: bucket le={bounds[i]} holds {buckets[i].Value}, fewer than le={bounds[i - 1]} ({buckets[i - 1].Value})");
                }
            }
            if (bounds.Count == 0 || !double.IsPositiveInfinity(bounds[^1]))
            {
                throw new FormatException($"{where}: no +Inf bucket");
            }
            var count = group.SingleOrDefault(s => s.Name == name + "_count") ?? throw new FormatException($"{where}: no _count");
            _ = group.SingleOrDefault(s => s.Name == name + "_sum") ?? throw new FormatException($"{where}: no _sum");
            if (count.Value != buckets[^1].Value)
            {
                throw new FormatException($"{where}: the +Inf bucket holds {buckets[^1].Value}, _count is {count.Value}");
            }
            if (group.Any(s => s.Name != name + "_bucket" && s.Name != name + "_sum" && s.Name != name + "_count"))
            {
                throw new FormatException($"{where}: a sample other than _bucket, _sum and _count");
            }
        }
    }

    /// <summary>The declared family a sample belongs to: its own name, or a histogram/summary it is a part of.</summary>
    private static string? FamilyOf(string sampleName, Dictionary<string, (string? Help, string? Type, List<PrometheusSample> Samples)> families)
    {
        if (families.ContainsKey(sampleName))
        {
            return sampleName;
        }
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sampleName[..^suffix.Length], out var family)
                && family.Type is "histogram" or "summary")
            {
                return sampleName[..^suffix.Length];
            }
        }
        return null;
    }

    private static PrometheusSample ParseSample(string line, Func<string, FormatException> error)
    {
        var name = MetricName().Match(line);
        if (!name.Success)
        {
            throw error("no valid metric name");
        }
        var position = name.Length;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (position >= line.Length || line[position] != '}')
            {
                if (position >= line.Length)
                {
                    throw error("unterminated labels");
                }
                var label = LabelName().Match(line, position);
                if (!label.Success || label.Index != position || label.Value.StartsWith("__", StringComparison.Ordinal))
                {
                    throw error("a bad label name");
                }
                position += label.Length;
                if (position + 1 >= line.Length || line[position] != '=' || line[position + 1] != '"')
                {
                    throw error("a label without =\"value\"");
                }
                position += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (position >= line.Length)
                    {
                        throw error("an unterminated label value");
                    }
                    var c = line[position++];
                    if (c == '"')
                    {
                        break;
                    }
                    if (c == '\\')
                    {
                        var escaped = position < line.Length ? line[position++] : ' ';
                        value.Append(escaped switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw error("an escape other than \\\\, \\\" or \\n in a label value"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }
                if (!labels.TryAdd(label.Value, value.ToString()))
                {
                    throw error($"label {label.Value} twice");
                }
                if (position < line.Length && line[position] == ',')
                {
                    position++;
                }
                else if (position >= line.Length || line[position] != '}')
                {
                    throw error("labels not separated by ','");
                }
            }
            position++;
        }
        if (position >= line.Length || line[position] != ' ')
        {
            throw error("no space before the value");
        }
        var fields = line[(position + 1)..].Split(' ');
        if (fields.Length is < 1 or > 2 || (fields.Length == 2 && !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            throw error("not a value and an optional integer timestamp");
        }
        var parsed = ParseValue(fields[0]) ?? throw error("a value that is not a float");
        return new PrometheusSample(name.Value, labels, parsed);
    }

    private static double? ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when FloatValue().IsMatch(text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string UnescapeHelp(string text, Func<string, FormatException> error)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }
            result.Append(++i < text.Length ? text[i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                _ => throw error("an escape other than \\\\ or \\n in HELP"),
            } : throw error("a lone backslash in HELP"));
        }
        return result.ToString();
    }

    [GeneratedRegex("^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$")]
    private static partial Regex MetaLine();

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex("[a-zA-Z_][a-zA-Z0-9_]*")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex FloatValue();
}
