using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>Which etcd error a request failed with.</summary>
public enum EtcdErrorKind
{
    EmptyKey,
    KeyNotFound,
    ValueProvided,
    LeaseProvided,
    TooManyOps,
    DuplicateKey,
    InvalidSortOption,
    Compacted,
    FutureRevision,
    LeaseNotFound,
    LeaseExists,
    LeaseTtlTooLarge,
    RootUserNotExist,
    RootRoleNotExist,
    UserAlreadyExists,
    UserEmpty,
    UserNotFound,
    RoleAlreadyExists,
    RoleNotFound,
    RoleEmpty,
    AuthFailed,
    NoPasswordUser,
    PermissionNotGiven,
    PermissionDenied,
    RoleNotGranted,
    PermissionNotGranted,
    AuthNotEnabled,
    InvalidAuthToken,
    InvalidAuthManagement,
    AuthOldRevision,
    NoSpace,
    Corrupt,
}

/// <summary>
/// A failed request, with the gRPC status code and the exact message etcd 3.5 sends (api/v3rpc/rpctypes), because
/// clients match on both (clientv3 maps messages back to typed errors). Only the instances below exist, so errors
/// compare by reference or by <see cref="Kind"/>.
/// </summary>
public sealed record EtcdError : ICommandResult
{
    public static readonly EtcdError EmptyKey = new(EtcdErrorKind.EmptyKey, GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided");
    public static readonly EtcdError KeyNotFound = new(EtcdErrorKind.KeyNotFound, GrpcStatusCode.InvalidArgument, "etcdserver: key not found");
    public static readonly EtcdError ValueProvided = new(EtcdErrorKind.ValueProvided, GrpcStatusCode.InvalidArgument, "etcdserver: value is provided");
    public static readonly EtcdError LeaseProvided = new(EtcdErrorKind.LeaseProvided, GrpcStatusCode.InvalidArgument, "etcdserver: lease is provided");
    public static readonly EtcdError TooManyOps = new(EtcdErrorKind.TooManyOps, GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request");
    public static readonly EtcdError DuplicateKey = new(EtcdErrorKind.DuplicateKey, GrpcStatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");
    public static readonly EtcdError InvalidSortOption = new(EtcdErrorKind.InvalidSortOption, GrpcStatusCode.InvalidArgument, "etcdserver: invalid sort option");
    public static readonly EtcdError Compacted = new(EtcdErrorKind.Compacted, GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
    public static readonly EtcdError FutureRevision = new(EtcdErrorKind.FutureRevision, GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
    public static readonly EtcdError LeaseNotFound = new(EtcdErrorKind.LeaseNotFound, GrpcStatusCode.NotFound, "etcdserver: requested lease not found");
    public static readonly EtcdError LeaseExists = new(EtcdErrorKind.LeaseExists, GrpcStatusCode.FailedPrecondition, "etcdserver: lease already exists");
    public static readonly EtcdError LeaseTtlTooLarge = new(EtcdErrorKind.LeaseTtlTooLarge, GrpcStatusCode.OutOfRange, "etcdserver: too large lease TTL");
    public static readonly EtcdError RootUserNotExist = new(EtcdErrorKind.RootUserNotExist, GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not exist");
    public static readonly EtcdError RootRoleNotExist = new(EtcdErrorKind.RootRoleNotExist, GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not have root role");
    public static readonly EtcdError UserAlreadyExists = new(EtcdErrorKind.UserAlreadyExists, GrpcStatusCode.FailedPrecondition, "etcdserver: user name already exists");
    public static readonly EtcdError UserEmpty = new(EtcdErrorKind.UserEmpty, GrpcStatusCode.InvalidArgument, "etcdserver: user name is empty");
    public static readonly EtcdError UserNotFound = new(EtcdErrorKind.UserNotFound, GrpcStatusCode.FailedPrecondition, "etcdserver: user name not found");
    public static readonly EtcdError RoleAlreadyExists = new(EtcdErrorKind.RoleAlreadyExists, GrpcStatusCode.FailedPrecondition, "etcdserver: role name already exists");
    public static readonly EtcdError RoleNotFound = new(EtcdErrorKind.RoleNotFound, GrpcStatusCode.FailedPrecondition, "etcdserver: role name not found");
    public static readonly EtcdError RoleEmpty = new(EtcdErrorKind.RoleEmpty, GrpcStatusCode.InvalidArgument, "etcdserver: role name is empty");
    public static readonly EtcdError AuthFailed = new(EtcdErrorKind.AuthFailed, GrpcStatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");

    /// <summary>etcd has no gRPC error for this one, so it reaches clients as Unknown with the auth package's own text
    /// (checked against etcd 3.4).</summary>
    public static readonly EtcdError NoPasswordUser = new(EtcdErrorKind.NoPasswordUser, GrpcStatusCode.Unknown, "auth: authentication failed, password was given for no password user");
    public static readonly EtcdError PermissionNotGiven = new(EtcdErrorKind.PermissionNotGiven, GrpcStatusCode.InvalidArgument, "etcdserver: permission not given");
    public static readonly EtcdError PermissionDenied = new(EtcdErrorKind.PermissionDenied, GrpcStatusCode.PermissionDenied, "etcdserver: permission denied");
    public static readonly EtcdError RoleNotGranted = new(EtcdErrorKind.RoleNotGranted, GrpcStatusCode.FailedPrecondition, "etcdserver: role is not granted to the user");
    public static readonly EtcdError PermissionNotGranted = new(EtcdErrorKind.PermissionNotGranted, GrpcStatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role");
    public static readonly EtcdError AuthNotEnabled = new(EtcdErrorKind.AuthNotEnabled, GrpcStatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");
    public static readonly EtcdError InvalidAuthToken = new(EtcdErrorKind.InvalidAuthToken, GrpcStatusCode.Unauthenticated, "etcdserver: invalid auth token");
    public static readonly EtcdError InvalidAuthManagement = new(EtcdErrorKind.InvalidAuthManagement, GrpcStatusCode.InvalidArgument, "etcdserver: invalid auth management");
    public static readonly EtcdError AuthOldRevision = new(EtcdErrorKind.AuthOldRevision, GrpcStatusCode.InvalidArgument, "etcdserver: revision of auth store is old");

    /// <summary>Refused while the NOSPACE alarm is active (etcd's capped applier) or when a write would exceed the
    /// backend quota.</summary>
    public static readonly EtcdError NoSpace = new(EtcdErrorKind.NoSpace, GrpcStatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");

    /// <summary>Refused while the CORRUPT alarm is active (etcd's corrupt applier).</summary>
    public static readonly EtcdError Corrupt = new(EtcdErrorKind.Corrupt, GrpcStatusCode.DataLoss, "etcdserver: corrupt cluster");

    private EtcdError(EtcdErrorKind kind, GrpcStatusCode code, string message)
    {
        Kind = kind;
        Code = code;
        Message = message;
    }

    public EtcdErrorKind Kind { get; }

    public GrpcStatusCode Code { get; }

    public string Message { get; }

    public override string ToString() => $"{Code}: {Message}";
}
