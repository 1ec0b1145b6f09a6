namespace CurpStore.Store;

/// <summary>The part of etcd's ResponseHeader the state machine owns: the store revision the answer reflects. The
/// server adds cluster id, member id and raft term.</summary>
public sealed record ResponseHeader(long Revision);
