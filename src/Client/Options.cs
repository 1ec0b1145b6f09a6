namespace CurpStore.Client;

/// <summary>How a get reads (etcd's RangeRequest options; clientv3's <c>WithPrefix</c>, <c>WithLimit</c>, ...).</summary>
public sealed record GetOptions
{
    /// <summary>Every key that starts with the given key.</summary>
    public bool Prefix { get; init; }

    /// <summary>Every key from the given key on (etcd's range_end "\0").</summary>
    public bool FromKey { get; init; }

    /// <summary>The keys in [key, RangeEnd); overrides <see cref="Prefix"/> and <see cref="FromKey"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>At most this many keys (0: no limit).</summary>
    public long Limit { get; init; }

    /// <summary>Read the store as it was at this revision (0: the current one).</summary>
    public long Revision { get; init; }

    /// <summary>Read one member's copy without the linearizable read barrier (may be stale, as in etcd).</summary>
    public bool Serializable { get; init; }

    /// <summary>Keys without values.</summary>
    public bool KeysOnly { get; init; }

    /// <summary>Only the count.</summary>
    public bool CountOnly { get; init; }

    /// <summary>Order of the keys (etcd's SortOrder: none, ascend, descend).</summary>
    public Store.SortOrder SortOrder { get; init; }

    /// <summary>What the keys are ordered by (etcd's SortTarget: key, version, create, mod, value).</summary>
    public Store.SortTarget SortTarget { get; init; }
}

/// <summary>How a put writes (clientv3's <c>WithLease</c>, <c>WithPrevKV</c>, ...).</summary>
public sealed record PutOptions
{
    /// <summary>Attach the key to this lease (0: none).</summary>
    public long Lease { get; init; }

    /// <summary>Return the key as it was before the put.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Keep the key's current value (the key must exist).</summary>
    public bool IgnoreValue { get; init; }

    /// <summary>Keep the key's current lease (the key must exist).</summary>
    public bool IgnoreLease { get; init; }
}

/// <summary>What a delete removes (clientv3's <c>WithPrefix</c>, <c>WithPrevKV</c>, ...).</summary>
public sealed record DeleteOptions
{
    /// <summary>Every key that starts with the given key.</summary>
    public bool Prefix { get; init; }

    /// <summary>Every key from the given key on.</summary>
    public bool FromKey { get; init; }

    /// <summary>The keys in [key, RangeEnd); overrides <see cref="Prefix"/> and <see cref="FromKey"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>Return the deleted keys.</summary>
    public bool PrevKv { get; init; }
}
