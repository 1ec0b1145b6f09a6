namespace CurpStore.GeoSim;

/// <summary>Which write path the simulated cluster uses (<c>--mode</c>).</summary>
/// <remarks>Running the same seed both ways gives a like-for-like comparison of CURP against plain Raft.</remarks>
public enum ProtocolMode
{
    /// <summary>CURP: commuting writes take the one-round-trip witness fast path.</summary>
    Curp,

    /// <summary>Every write goes through the leader-ordered (Raft) path.</summary>
    Raft,
}
