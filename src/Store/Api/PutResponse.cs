namespace CurpStore.Store;

/// <summary>etcd's PutResponse.</summary>
public sealed record PutResponse : EtcdResponse
{
    public KeyValue? PrevKv { get; init; }
}
