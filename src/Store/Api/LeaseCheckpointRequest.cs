namespace CurpStore.Store;

/// <summary>One lease's remaining TTL as seen by the leader, recorded so that a new leader does not restart the full
/// TTL (etcd's lease checkpointing). 0 clears a recorded value after a keep-alive.</summary>
public sealed record LeaseCheckpoint(long Id, long RemainingTtlSeconds);

/// <summary>etcd's LeaseCheckpointRequest (an internal raft request, proposed by the leader only).</summary>
public sealed record LeaseCheckpointRequest : EtcdRequest
{
    public IReadOnlyList<LeaseCheckpoint> Checkpoints { get; init; } = [];
}
