namespace CurpStore.GeoSim;

/// <summary>Network-only lower bounds, in ms, on one write's latency as seen by one client.</summary>
/// <param name="FastMs">CURP fast path: the leader and a superquorum of witnesses answer the client directly.</param>
/// <param name="SlowMs">Leader-ordered path: client to leader, leader to a quorum and back, leader answers.</param>
/// <param name="FloorMs">min(<paramref name="FastMs"/>, <paramref name="SlowMs"/>): the best the protocol can do.</param>
/// <param name="CommitNoticeMs">
/// Slow path where followers tell the client about the commit directly instead of through the
/// leader: client to leader, leader to followers, followers to client, for a quorum.
/// </param>
public sealed record QuorumFloorResult(double FastMs, double SlowMs, double FloorMs, double CommitNoticeMs);
