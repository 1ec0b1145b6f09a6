namespace CurpStore.Store;

/// <summary>etcd's LeaseCheckpointResponse (header only).</summary>
public sealed record LeaseCheckpointResponse : EtcdResponse;
