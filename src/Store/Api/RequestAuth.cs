namespace CurpStore.Store;

/// <summary>
/// The identity a request executes with, taken from the client's token by the member that serves it: the user name
/// and the auth revision the token was checked at (etcd's <c>RequestHeader.username</c> / <c>auth_revision</c>). A
/// request whose auth revision is older than the store's fails with "revision of auth store is old", so a permission
/// change ordered before it can never be bypassed by a check made before that change.
/// </summary>
public sealed record RequestAuth(string User, long AuthRevision)
{
    /// <summary>The members themselves (lease expiry proposed by the leader, internal barriers): passes every check,
    /// as etcd's leader revokes expired leases with a root token. Only members create it; clients cannot.</summary>
    public static readonly RequestAuth Member = new("", -1) { IsMember = true };

    public bool IsMember { get; private init; }
}
