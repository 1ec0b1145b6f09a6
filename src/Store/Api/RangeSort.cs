namespace CurpStore.Store;

/// <summary>etcd's RangeRequest.SortOrder (same numbers as the protobuf enum).</summary>
public enum SortOrder
{
    None = 0,
    Ascend = 1,
    Descend = 2,
}

/// <summary>etcd's RangeRequest.SortTarget (same numbers as the protobuf enum).</summary>
public enum SortTarget
{
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}
