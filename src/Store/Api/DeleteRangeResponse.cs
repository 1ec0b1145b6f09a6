namespace CurpStore.Store;

/// <summary>etcd's DeleteRangeResponse.</summary>
public sealed record DeleteRangeResponse : EtcdResponse
{
    public long Deleted { get; init; }

    public IReadOnlyList<KeyValue> PrevKvs { get; init; } = [];
}
