namespace CurpStore.Store;

/// <summary>
/// etcd's mvccpb.KeyValue: one version of a key. Equality compares key and value bytes by content, so that a
/// speculated answer can be checked against the applied one and tests can compare versions directly.
/// </summary>
/// <remarks>Byte arrays are shared, never copied: nothing in the store mutates them, and callers must not either.</remarks>
public sealed record KeyValue
{
    public byte[] Key { get; init; } = [];

    /// <summary>The revision of the put that created this generation of the key (0 on a delete event).</summary>
    public long CreateRevision { get; init; }

    /// <summary>The revision of the change that produced this version.</summary>
    public long ModRevision { get; init; }

    /// <summary>How many puts this generation of the key has seen; a delete resets it.</summary>
    public long Version { get; init; }

    public byte[] Value { get; init; } = [];

    /// <summary>The lease the key is attached to, 0 for none.</summary>
    public long Lease { get; init; }

    public bool Equals(KeyValue? other) =>
        other is not null
        && CreateRevision == other.CreateRevision
        && ModRevision == other.ModRevision
        && Version == other.Version
        && Lease == other.Lease
        && Key.AsSpan().SequenceEqual(other.Key)
        && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Key);
        hash.Add(ModRevision);
        return hash.ToHashCode();
    }
}
