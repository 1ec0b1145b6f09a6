namespace CurpStore.Store;

/// <summary>etcd's PutRequest. <see cref="IgnoreValue"/> / <see cref="IgnoreLease"/> keep the key's current value or
/// lease (the key must exist).</summary>
public sealed record PutRequest : EtcdRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] Value { get; init; } = [];

    public long Lease { get; init; }

    public bool PrevKv { get; init; }

    public bool IgnoreValue { get; init; }

    public bool IgnoreLease { get; init; }
}
