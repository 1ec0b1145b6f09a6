namespace CurpStore.GeoSim;

/// <summary>Which faults the safety phase of a run injects (<c>--faults</c>).</summary>
public enum FaultMode
{
    /// <summary>No faults: measures latency against the floor.</summary>
    None,

    /// <summary>Crash and restart members (losing unsynced data).</summary>
    Crash,

    /// <summary>Network partitions between members and clients.</summary>
    Partition,

    /// <summary>Everything: crashes, partitions, loss, duplication, reordering, clock drift.</summary>
    All,
}
