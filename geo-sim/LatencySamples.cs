namespace CurpStore.GeoSim;

/// <summary>Latency observations in milliseconds with nearest-rank percentiles.</summary>
/// <remarks>
/// <para>
/// Nearest-rank (the smallest sample with at least p% of samples at or below it) always returns a
/// latency that really happened, never an interpolation between two, so a p99 can be traced to
/// a concrete operation, and the result does not depend on an interpolation convention.
/// </para>
/// <para>
/// Samples are kept in full: a simulated run has at most millions of operations, and exact
/// percentiles are what the comparison with the floor needs. The sorted copy is cached until the
/// next <see cref="Add"/>.
/// </para>
/// </remarks>
public sealed class LatencySamples
{
    private readonly List<double> _samples = [];
    private double[]? _sorted;

    /// <summary>Number of samples.</summary>
    public int Count => _samples.Count;

    /// <summary>Samples in insertion order.</summary>
    public IReadOnlyList<double> Samples => _samples;

    /// <summary>Records one latency in milliseconds.</summary>
    public void Add(double ms)
    {
        if (!double.IsFinite(ms) || ms < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ms), ms, "a latency must be finite and >= 0");
        }

        _samples.Add(ms);
        _sorted = null;
    }

    /// <summary>Records every sample of <paramref name="other"/> (to merge per-client sets into a region).</summary>
    public void AddAll(LatencySamples other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _samples.AddRange(other._samples);
        _sorted = null;
    }

    /// <summary>Nearest-rank percentile, <paramref name="percent"/> in [0, 100] (0 gives the minimum).</summary>
    /// <exception cref="InvalidOperationException">There are no samples.</exception>
    public double Percentile(double percent)
    {
        if (!(percent >= 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "must be in [0, 100]");
        }

        double[] sorted = Sorted();
        // percent * count first: exact for whole percents, so p99 of 100 samples is rank 99, not 100.
        int rank = (int)Math.Ceiling(percent * sorted.Length / 100.0);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>The 50th percentile by nearest rank (the lower middle for an even count).</summary>
    public double Median() => Percentile(50);

    /// <summary>Smallest sample.</summary>
    public double Min() => Sorted()[0];

    /// <summary>Largest sample.</summary>
    public double Max() => Sorted()[^1];

    /// <summary>Arithmetic mean.</summary>
    public double Mean() => Count == 0 ? throw Empty() : _samples.Average();

    private double[] Sorted()
    {
        if (_samples.Count == 0)
        {
            throw Empty();
        }

        if (_sorted is null)
        {
            _sorted = [.. _samples];
            Array.Sort(_sorted);
        }

        return _sorted;
    }

    private static InvalidOperationException Empty() => new("no latency samples recorded");
}
