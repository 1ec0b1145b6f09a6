namespace CurpStore.Store;

/// <summary>etcd's authpb.Permission.Type; the numbers are etcd's.</summary>
public enum PermissionType
{
    Read = 0,
    Write = 1,
    ReadWrite = 2,
}

/// <summary>
/// etcd's authpb.Permission: a key (empty <see cref="RangeEnd"/>), a range [<see cref="Key"/>, <see cref="RangeEnd"/>),
/// or everything from <see cref="Key"/> on (<see cref="RangeEnd"/> = "\0"), with etcd's range_end rules; a prefix is
/// granted as [prefix, prefix+1). Byte arrays are never mutated.
/// </summary>
public sealed record AuthPermission(PermissionType Type, byte[] Key, byte[] RangeEnd)
{
    /// <summary>What etcd 3.5 shows for the root role: read and write on every key.</summary>
    public static readonly AuthPermission Root = new(PermissionType.ReadWrite, [], [0]);

    public bool Allows(PermissionType wanted) => Type == PermissionType.ReadWrite || Type == wanted;

    /// <summary>etcd's isValidPermissionRange: a key is required; a range end must be above it, or "\0".</summary>
    public bool IsValidRange => Key.Length != 0
        && (RangeEnd.Length == 0 || AffineBytes.Compare(Key, RangeEnd) < 0 || RangeEnd is [0]);

    public bool SameRange(byte[] key, byte[] rangeEnd) => Key.AsSpan().SequenceEqual(key) && RangeEnd.AsSpan().SequenceEqual(rangeEnd);
}

/// <summary>etcd's BytesAffineComparable: byte order, except that the empty array is above every other (it stands for
/// "no upper bound").</summary>
internal static class AffineBytes
{
    public static int Compare(byte[] left, byte[] right) => (left.Length, right.Length) switch
    {
        (0, 0) => 0,
        (0, _) => 1,
        (_, 0) => -1,
        _ => left.AsSpan().SequenceCompareTo(right),
    };
}
