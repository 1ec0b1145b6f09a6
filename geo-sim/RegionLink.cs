namespace CurpStore.GeoSim;

/// <summary>One entry of a topology's latency list: the one-way delay between two regions.</summary>
/// <remarks>
/// Links are undirected: a wide-area path's minimum delay is, to a good approximation, the same
/// both ways, and listing each pair once keeps the files short and impossible to make asymmetric
/// by accident.
/// </remarks>
/// <param name="A">One region.</param>
/// <param name="B">The other region.</param>
/// <param name="OneWayMs">Minimum one-way delay in milliseconds (jitter is added on top).</param>
public sealed record RegionLink(string A, string B, double OneWayMs);
