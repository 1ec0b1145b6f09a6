namespace CurpStore.Rig;

/// <summary>The delay of one direction of a link: a fixed minimum plus an exponential tail, as the simulator draws
/// it from the same topology file (<c>one_way_ms</c>, <c>jitter_mean_ms</c>).</summary>
/// <param name="OneWayMs">Minimum one-way delay in ms.</param>
/// <param name="JitterMeanMs">Mean in ms of the exponential jitter added to each chunk (0 = none).</param>
public sealed record LinkDelay(double OneWayMs, double JitterMeanMs)
{
    /// <summary>Median round trip over a link with this delay both ways: twice the minimum plus the median of the sum
    /// of two exponential tails (a gamma(2) variable, whose median is about 1.678 times the mean).</summary>
    public double MedianRoundTripMs => (2 * OneWayMs) + (1.678 * JitterMeanMs);

    /// <summary>Draws one chunk's delay in ms from <paramref name="random"/>.</summary>
    public double SampleMs(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return JitterMeanMs <= 0 ? OneWayMs : OneWayMs - (JitterMeanMs * Math.Log(1 - random.NextDouble()));
    }
}
