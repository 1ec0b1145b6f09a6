namespace CurpStore.Client;

/// <summary>The answer to a get (etcd's RangeResponse).</summary>
/// <param name="Revision">The store revision the answer reflects (the response header's revision).</param>
/// <param name="Kvs">The keys found, at most the limit; none with <see cref="GetOptions.CountOnly"/>.</param>
/// <param name="More">More keys matched than the limit let through.</param>
/// <param name="Count">How many keys matched, before the limit.</param>
public sealed record GetResult(long Revision, IReadOnlyList<KeyValue> Kvs, bool More, long Count);

/// <summary>The answer to a put.</summary>
/// <param name="Revision">The revision of this put (the response header's revision).</param>
/// <param name="PrevKv">The key before the put, when <see cref="PutOptions.PrevKv"/> asked for it and it existed.</param>
/// <param name="CommitPath">How the write was decided.</param>
public sealed record PutResult(long Revision, KeyValue? PrevKv, CommitPath CommitPath);

/// <summary>The answer to a delete.</summary>
/// <param name="Revision">The store revision after the delete (the response header's revision).</param>
/// <param name="Deleted">How many keys were deleted.</param>
/// <param name="PrevKvs">The deleted keys, when <see cref="DeleteOptions.PrevKv"/> asked for them.</param>
/// <param name="CommitPath">How the write was decided.</param>
public sealed record DeleteResult(long Revision, long Deleted, IReadOnlyList<KeyValue> PrevKvs, CommitPath CommitPath);

/// <summary>The answer to a transaction.</summary>
/// <param name="Revision">The store revision after the transaction (the response header's revision).</param>
/// <param name="Succeeded">Every compare held, so the success branch ran.</param>
/// <param name="Responses">One answer per operation of the branch that ran, in order.</param>
/// <param name="CommitPath">How the transaction was decided.</param>
public sealed record TxnResult(long Revision, bool Succeeded, IReadOnlyList<TxnOpResult> Responses, CommitPath CommitPath);

/// <summary>The answer to one operation of a transaction: exactly one property is set. As in etcd, the revision of a
/// nested answer is 0 (only the transaction's own header carries one); nested writes report the transaction's
/// <see cref="CommitPath"/>.</summary>
public sealed record TxnOpResult(GetResult? Get, PutResult? Put, DeleteResult? Delete, TxnResult? Txn);

/// <summary>The answer to a lease grant.</summary>
/// <param name="Id">The lease id (chosen by the cluster when 0 was asked for).</param>
/// <param name="TtlSeconds">The granted time to live (raised to the cluster's minimum when smaller).</param>
/// <param name="Revision">The store revision (the response header's revision).</param>
/// <param name="CommitPath">How the grant was decided.</param>
public sealed record LeaseGrantResult(long Id, long TtlSeconds, long Revision, CommitPath CommitPath);

/// <summary>The answer to a lease revoke.</summary>
/// <param name="Revision">The store revision after the revoke deleted the lease's keys.</param>
/// <param name="CommitPath">How the revoke was decided.</param>
public sealed record LeaseRevokeResult(long Revision, CommitPath CommitPath);

/// <summary>The answer to one keep-alive.</summary>
/// <param name="Id">The lease id.</param>
/// <param name="TtlSeconds">The lease's renewed time to live.</param>
/// <param name="Revision">The store revision (the response header's revision).</param>
public sealed record LeaseKeepAliveResult(long Id, long TtlSeconds, long Revision);

/// <summary>The answer to a time-to-live query.</summary>
/// <param name="Id">The lease id.</param>
/// <param name="TtlSeconds">Seconds left; -1 when the lease is unknown or expired (etcd's answer, not an error).</param>
/// <param name="GrantedTtlSeconds">The TTL the lease was granted with.</param>
/// <param name="Keys">The keys attached to the lease, when asked for.</param>
/// <param name="Revision">The store revision (the response header's revision).</param>
public sealed record LeaseTimeToLiveResult(long Id, long TtlSeconds, long GrantedTtlSeconds, IReadOnlyList<byte[]> Keys, long Revision);
