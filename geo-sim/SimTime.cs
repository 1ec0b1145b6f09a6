namespace CurpStore.GeoSim;

/// <summary>
/// Conversions between the scheduler's integer microseconds and the milliseconds used in
/// topology files and reports.
/// </summary>
/// <remarks>
/// Virtual time is an integer so that event order never depends on floating-point rounding;
/// latencies are written in milliseconds because that is how people read WAN numbers. Rounding
/// happens in exactly one place, here.
/// </remarks>
public static class SimTime
{
    /// <summary>Microseconds in one millisecond.</summary>
    public const long MicrosPerMs = 1_000;

    /// <summary>Microseconds in one second.</summary>
    public const long MicrosPerSecond = 1_000_000;

    /// <summary>Rounds a duration in milliseconds to whole microseconds (half away from zero).</summary>
    public static long MicrosFromMs(double ms)
    {
        if (!double.IsFinite(ms))
        {
            throw new ArgumentOutOfRangeException(nameof(ms), ms, "must be finite");
        }

        return (long)Math.Round(ms * MicrosPerMs, MidpointRounding.AwayFromZero);
    }

    /// <summary>A duration in microseconds as milliseconds.</summary>
    public static double MsFromMicros(long micros) => micros / (double)MicrosPerMs;
}
