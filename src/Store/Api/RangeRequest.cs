namespace CurpStore.Store;

/// <summary>
/// etcd's RangeRequest. <see cref="RangeEnd"/> follows etcd: empty = the single key <see cref="Key"/>; one zero byte =
/// every key &gt;= <see cref="Key"/>; otherwise [Key, RangeEnd). <see cref="Revision"/> &lt;= 0 reads the current revision.
/// </summary>
public sealed record RangeRequest : EtcdRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];

    /// <summary>At most this many keys (0 = no limit); <see cref="RangeResponse.More"/> tells that more matched.</summary>
    public long Limit { get; init; }

    public long Revision { get; init; }

    public SortOrder SortOrder { get; init; }

    public SortTarget SortTarget { get; init; }

    /// <summary>Read locally without the linearizable read barrier. The state machine answers the same either way;
    /// the server decides the path.</summary>
    public bool Serializable { get; init; }

    public bool KeysOnly { get; init; }

    public bool CountOnly { get; init; }

    public long MinModRevision { get; init; }

    public long MaxModRevision { get; init; }

    public long MinCreateRevision { get; init; }

    public long MaxCreateRevision { get; init; }
}
