namespace CurpStore.Store;

/// <summary>etcd's CompactionRequest. The store always compacts physically while applying (old versions are dropped
/// in the same batch), so <see cref="Physical"/> only tells the server it may answer right away either way.</summary>
public sealed record CompactionRequest : EtcdRequest
{
    public long Revision { get; init; }

    public bool Physical { get; init; }
}
