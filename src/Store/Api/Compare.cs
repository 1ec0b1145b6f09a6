namespace CurpStore.Store;

/// <summary>etcd's Compare.CompareResult (same numbers as the protobuf enum).</summary>
public enum CompareResult
{
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
}

/// <summary>etcd's Compare.CompareTarget (same numbers as the protobuf enum).</summary>
public enum CompareTarget
{
    Version = 0,
    Create = 1,
    Mod = 2,
    Value = 3,
    Lease = 4,
}

/// <summary>
/// One guard of a <see cref="TxnRequest"/>: compares the <see cref="Target"/> field of every key in the range with
/// the matching operand below (etcd's target_union; only the operand named by <see cref="Target"/> is read). A missing
/// key compares as zero, except that a VALUE compare on a missing key always fails, as in etcd.
/// </summary>
public sealed record Compare
{
    public CompareResult Result { get; init; }

    public CompareTarget Target { get; init; }

    public byte[] Key { get; init; } = [];

    /// <summary>Turns the compare into a range compare (etcd range_end conventions); every key in it must match.</summary>
    public byte[] RangeEnd { get; init; } = [];

    public long Version { get; init; }

    public long CreateRevision { get; init; }

    public long ModRevision { get; init; }

    public byte[] Value { get; init; } = [];

    public long Lease { get; init; }
}
