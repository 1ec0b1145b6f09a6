namespace CurpStore.GeoSim;

/// <summary>Which replicated state machine the simulated members run.</summary>
public enum MachineKind
{
    /// <summary>The etcd store (src/Store) on its in-memory engine.</summary>
    Etcd,

    /// <summary>The simulator's small single-key KV model.</summary>
    Kv,
}
