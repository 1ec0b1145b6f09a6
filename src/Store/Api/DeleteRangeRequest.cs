namespace CurpStore.Store;

/// <summary>etcd's DeleteRangeRequest; <see cref="RangeEnd"/> as in <see cref="RangeRequest"/>.</summary>
public sealed record DeleteRangeRequest : EtcdRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];

    public bool PrevKv { get; init; }
}
