namespace CurpStore.GeoSim;

/// <summary>One row of a <see cref="SimReport"/>: write latencies seen by the clients of one region.</summary>
/// <remarks>
/// Per region, not overall, because CURP's benefit depends on where the client sits relative to
/// the leader and the witnesses; an overall median would hide the regions that gain most.
/// Latency fields are null when there were no samples of that kind (JSON null, "-" in text).
/// </remarks>
/// <param name="Region">Client region.</param>
/// <param name="Count">Completed writes.</param>
/// <param name="P50Ms">Median latency of all writes.</param>
/// <param name="P99Ms">99th percentile latency of all writes.</param>
/// <param name="FastP50Ms">Median of writes that completed on the fast path.</param>
/// <param name="SlowP50Ms">Median of writes that completed on the slow path.</param>
/// <param name="FastPathRatio">Fast-path writes / all writes (0 when there were none).</param>
/// <param name="FloorMs">Network floor from <see cref="QuorumFloor"/> for this region.</param>
public sealed record RegionReport(
    string Region,
    int Count,
    double? P50Ms,
    double? P99Ms,
    double? FastP50Ms,
    double? SlowP50Ms,
    double FastPathRatio,
    double FloorMs)
{
    /// <summary>Builds a row from the fast-path and slow-path samples of one region.</summary>
    public static RegionReport From(string region, LatencySamples fast, LatencySamples slow, double floorMs)
    {
        ArgumentNullException.ThrowIfNull(fast);
        ArgumentNullException.ThrowIfNull(slow);
        var all = new LatencySamples();
        all.AddAll(fast);
        all.AddAll(slow);
        return new RegionReport(
            region,
            all.Count,
            all.Count > 0 ? all.Median() : null,
            all.Count > 0 ? all.Percentile(99) : null,
            fast.Count > 0 ? fast.Median() : null,
            slow.Count > 0 ? slow.Median() : null,
            all.Count > 0 ? (double)fast.Count / all.Count : 0,
            floorMs);
    }
}
