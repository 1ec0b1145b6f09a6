namespace CurpStore.Store;

/// <summary>etcd's CompactionResponse (header only).</summary>
public sealed record CompactionResponse : EtcdResponse;
