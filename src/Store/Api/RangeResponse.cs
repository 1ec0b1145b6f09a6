namespace CurpStore.Store;

/// <summary>etcd's RangeResponse. <see cref="Count"/> counts every key in the range at the read revision, before the
/// min/max revision filters and the limit, exactly as etcd does.</summary>
public sealed record RangeResponse : EtcdResponse
{
    public IReadOnlyList<KeyValue> Kvs { get; init; } = [];

    public bool More { get; init; }

    public long Count { get; init; }
}
