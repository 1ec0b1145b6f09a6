namespace CurpStore.Curp;

/// <summary>Orders and hashes byte-array keys by content (unsigned, like etcd), with a hash that does not vary
/// between processes, so nothing in the core depends on per-process hash seeds.</summary>
public sealed class ByteKeyComparer : IComparer<byte[]>, IEqualityComparer<byte[]>
{
    public static readonly ByteKeyComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        // FNV-1a: stable across runs and machines.
        var hash = 2166136261u;
        foreach (var b in obj)
        {
            hash = (hash ^ b) * 16777619u;
        }
        return (int)hash;
    }
}
