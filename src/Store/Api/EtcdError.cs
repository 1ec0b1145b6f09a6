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
