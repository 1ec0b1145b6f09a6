using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace CurpStore.Server.Metrics;

/// <summary>
/// Renders the instruments of one <see cref="Meter"/> in Prometheus text format 0.0.4 (the official exporter packages
/// are missing from the feed, PACKAGES.md). A <see cref="MeterListener"/> keeps, per instrument and label set, the
/// running sum of counters, the last value of gauges and observable counters, and the bucket counts of histograms
/// (boundaries from the instrument's advice). Instrument names are the metric names; the description is HELP.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>The Content-Type of text format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly IReadOnlyList<double> DefaultBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener listener = new();
    private readonly Dictionary<Instrument, Family> families = [];
    private readonly Lock gate = new();

    public PrometheusExporter(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (!ReferenceEquals(instrument.Meter, meter))
            {
                return;
            }
            lock (gate)
            {
                families[instrument] = new Family(instrument);
            }
            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
    }

    /// <summary>Observes the observable instruments and renders every family, sorted by name.</summary>
    public string Render()
    {
        lock (gate)
        {
            listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var family in families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                family.Render(text);
            }
            return text.ToString();
        }
    }

    public void Dispose() => listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        lock (gate)
        {
            if (families.TryGetValue(instrument, out var family))
            {
                family.Record(labels, value);
            }
        }
    }

    /// <summary>The label set as Prometheus prints it, sorted by name: <c>{a="x",b="y"}</c>, or empty.</summary>
    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }
        var sorted = tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal);
        return string.Join(',', sorted.Select(t => $"{t.Key}=\"{EscapeLabelValue(Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "")}\""));
    }

    private static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string WithLabels(string name, string labels) => labels.Length == 0 ? name : $"{name}{{{labels}}}";

    private sealed class Family(Instrument instrument)
    {
        private readonly SortedDictionary<string, double> values = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, HistogramSeries> histograms = new(StringComparer.Ordinal);
        private readonly IReadOnlyList<double> bounds = instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { } advised } ? advised : DefaultBucketsSeconds;

        public string Name => instrument.Name;

        private string Type => instrument switch
        {
            Histogram<double> or Histogram<long> => "histogram",
            Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => "counter",
            _ => "gauge",
        };

        public void Record(string labels, double value)
        {
            switch (instrument)
            {
                case Histogram<double> or Histogram<long>:
                    if (!histograms.TryGetValue(labels, out var series))
                    {
                        histograms[labels] = series = new HistogramSeries(bounds.Count);
                    }
                    series.Add(bounds, value);
                    break;
                case Counter<long> or Counter<double>:
                    values[labels] = values.GetValueOrDefault(labels) + value;
                    break;
                default: // observable instruments report their current value
                    values[labels] = value;
                    break;
            }
        }

        public void Render(StringBuilder text)
        {
            if (values.Count == 0 && histograms.Count == 0)
            {
                return;
            }
            text.Append("# HELP ").Append(Name).Append(' ').Append(EscapeHelp(instrument.Description ?? "")).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
            foreach (var (labels, value) in values)
            {
                text.Append(WithLabels(Name, labels)).Append(' ').Append(FormatValue(value)).Append('\n');
            }
            foreach (var (labels, series) in histograms)
            {
                var prefix = labels.Length == 0 ? "" : labels + ",";
                long cumulative = 0;
                for (var i = 0; i < bounds.Count; i++)
                {
                    cumulative += series.Buckets[i];
                    text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"").Append(FormatValue(bounds[i])).Append("\"} ")
                        .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                text.Append(WithLabels(Name + "_sum", labels)).Append(' ').Append(FormatValue(series.Sum)).Append('\n');
                text.Append(WithLabels(Name + "_count", labels)).Append(' ').Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }

    /// <summary>Non-cumulative counts per bucket (the last is above every bound), sum and count.</summary>
    private sealed class HistogramSeries(int boundCount)
    {
        public long[] Buckets { get; } = new long[boundCount + 1];

        public double Sum { get; private set; }

        public long Count { get; private set; }

        public void Add(IReadOnlyList<double> bounds, double value)
        {
            var bucket = 0;
            while (bucket < bounds.Count && value > bounds[bucket])
            {
                bucket++; // Prometheus buckets are "less than or equal to le"
            }
            Buckets[bucket]++;
            Sum += value;
            Count++;
        }
    }
}
