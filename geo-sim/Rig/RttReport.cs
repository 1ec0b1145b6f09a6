using System.Globalization;
using System.Text;

namespace CurpStore.Rig;

/// <summary>Measured round trips per link next to the ones the topology asks for.</summary>
/// <param name="Rows">One per directed link.</param>
public sealed record RttReport(IReadOnlyList<RttReport.Row> Rows)
{
    /// <summary>The largest |measured median − asked median| over all links.</summary>
    public double WorstDifferenceMs => Rows.Max(r => Math.Abs(r.DifferenceMs));

    /// <summary>A markdown table: one row per link.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.Append("| from | to | asked RTT ms (median) | measured RTT ms (median) | difference ms | measured min ms |\n");
        text.Append("|---|---|---:|---:|---:|---:|\n");
        foreach (var row in Rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.From.Name} ({row.From.Region}) | {row.To.Name} ({row.To.Region}) | {row.AskedMedianMs:F2} | {row.MeasuredMedianMs:F2} | {row.DifferenceMs:+0.00;-0.00} | {row.MeasuredMinMs:F2} |\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"worst difference {WorstDifferenceMs:F2} ms over {Rows.Count} links\n");
        return text.ToString();
    }

    /// <summary>One directed link's figures.</summary>
    /// <param name="From">The probing node.</param>
    /// <param name="To">The member probed.</param>
    /// <param name="AskedMedianMs">Twice the topology's one-way delay plus the median of two jitter draws.</param>
    /// <param name="MeasuredMedianMs">The median of the samples.</param>
    /// <param name="MeasuredMinMs">The smallest sample.</param>
    public sealed record Row(RigNode From, RigNode To, double AskedMedianMs, double MeasuredMedianMs, double MeasuredMinMs)
    {
        /// <summary>Measured minus asked.</summary>
        public double DifferenceMs => MeasuredMedianMs - AskedMedianMs;
    }
}
