namespace CurpStore.Store;

/// <summary>
/// etcd's permission checks (auth/store.go isOpPermitted and IsAdminPermitted, etcdserver/apply_auth.go): what each
/// request needs, judged against an <see cref="AuthState"/>. The store runs <see cref="Check"/> on every request it
/// executes (apply, speculation and reads alike), so a write is judged against the auth store as it stands at its
/// place in the log; the serving member uses <see cref="Read"/> for watches, which are not store requests.
/// </summary>
public static class AuthChecker
{
    /// <summary>Read permission on a key or range (etcd's IsRangePermitted).</summary>
    public static EtcdError? Read(AuthState auth, RequestAuth? who, byte[] key, byte[] rangeEnd) =>
        Operation(auth, who, key, rangeEnd, PermissionType.Read);

    /// <summary>Write permission on a key or range (etcd's IsPutPermitted / IsDeleteRangePermitted).</summary>
    public static EtcdError? Write(AuthState auth, RequestAuth? who, byte[] key, byte[] rangeEnd) =>
        Operation(auth, who, key, rangeEnd, PermissionType.Write);

    /// <summary>etcd's IsAdminPermitted: the root role (no auth revision check, as in etcd).</summary>
    public static EtcdError? Admin(AuthState auth, RequestAuth? who)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (!auth.Enabled || who is { IsMember: true })
        {
            return null;
        }
        if (who is null || who.User.Length == 0)
        {
            return EtcdError.UserEmpty;
        }
        return auth.FindUser(who.User) switch
        {
            null => EtcdError.UserNotFound,
            { IsRoot: false } => EtcdError.PermissionDenied,
            _ => null,
        };
    }

    /// <summary>What <paramref name="request"/> needs, as etcd's auth applier checks it, on
    /// <paramref name="state"/>'s auth store (and its lease attachments).</summary>
    internal static EtcdError? Check(IMvccState state, EtcdRequest request)
    {
        var auth = state.Auth;
        var who = request.Auth;
        if (!auth.Enabled || who is { IsMember: true })
        {
            return null;
        }
        return request switch
        {
            RangeRequest range => Read(auth, who, range.Key, range.RangeEnd),
            PutRequest put => CheckPut(state, auth, who, put),
            DeleteRangeRequest delete => CheckDelete(auth, who, delete),
            TxnRequest txn => CheckTxn(state, auth, who, txn),
            LeaseRevokeRequest revoke => CheckLeaseKeys(state, auth, who, revoke.Id),
            // etcd checks neither compaction nor lease grants and checkpoints.
            CompactionRequest or LeaseGrantRequest or LeaseCheckpointRequest or AuthenticateRequest => null,
            // A user may read itself, and the roles it has.
            UserGetRequest get => Admin(auth, who) is { } error && get.Name != who?.User ? error : null,
            RoleGetRequest get => Admin(auth, who) is { } error && auth.FindUser(who?.User ?? "")?.Roles.Contains(get.Role) != true ? error : null,
            _ => Admin(auth, who),
        };
    }

    private static EtcdError? Operation(AuthState auth, RequestAuth? who, byte[] key, byte[] rangeEnd, PermissionType wanted)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (!auth.Enabled || who is { IsMember: true })
        {
            return null;
        }
        if (who is null || who.AuthRevision == 0)
        {
            return EtcdError.UserEmpty; // etcd: no token, no revision
        }
        if (who.AuthRevision < auth.Revision)
        {
            return EtcdError.AuthOldRevision;
        }
        if (auth.FindUser(who.User) is not { } user)
        {
            return EtcdError.PermissionDenied;
        }
        if (user.IsRoot)
        {
            return null;
        }
        return auth.PermissionsOf(who.User)!.Allows(wanted, key, rangeEnd) ? null : EtcdError.PermissionDenied;
    }

    /// <summary>etcd's authApplierV3.Put: write on the key; write on every key already attached to the lease (else the
    /// user could attach its key to a lease it cannot revoke); read on the key when the previous value is asked for.</summary>
    private static EtcdError? CheckPut(IMvccState state, AuthState auth, RequestAuth? who, PutRequest put) =>
        Write(auth, who, put.Key, [])
        ?? (put.Lease != 0 ? CheckLeaseKeys(state, auth, who, put.Lease) : null)
        ?? (put.PrevKv ? Read(auth, who, put.Key, []) : null);

    private static EtcdError? CheckDelete(AuthState auth, RequestAuth? who, DeleteRangeRequest delete) =>
        Write(auth, who, delete.Key, delete.RangeEnd) ?? (delete.PrevKv ? Read(auth, who, delete.Key, delete.RangeEnd) : null);

    /// <summary>etcd's checkTxnAuth: read on every compare, and both branches whichever runs. Unlike etcd 3.5, ops of
    /// nested txns are checked too, and a put in a txn is checked like a standalone one (lease and previous value).</summary>
    private static EtcdError? CheckTxn(IMvccState state, AuthState auth, RequestAuth? who, TxnRequest txn)
    {
        foreach (var compare in txn.Compare)
        {
            if (Read(auth, who, compare.Key, compare.RangeEnd) is { } error)
            {
                return error;
            }
        }
        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            var error = op switch
            {
                { RequestRange: { } range } => Read(auth, who, range.Key, range.RangeEnd),
                { RequestPut: { } put } => CheckPut(state, auth, who, put),
                { RequestDeleteRange: { } delete } => CheckDelete(auth, who, delete),
                { RequestTxn: { } inner } => CheckTxn(state, auth, who, inner),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>etcd's checkLeasePuts: write on every key attached to the lease (none for an unknown lease).</summary>
    private static EtcdError? CheckLeaseKeys(IMvccState state, AuthState auth, RequestAuth? who, long leaseId)
    {
        foreach (var key in state.AttachedKeys(leaseId))
        {
            if (Write(auth, who, key, []) is { } error)
            {
                return error;
            }
        }
        return null;
    }
}
