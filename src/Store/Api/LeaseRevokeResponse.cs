namespace CurpStore.Store;

/// <summary>etcd's LeaseRevokeResponse (header only: the revision after the attached keys were deleted).</summary>
public sealed record LeaseRevokeResponse : EtcdResponse;
