using CurpStore.Rpc;

namespace CurpStore.Client;

/// <summary>
/// A call failed with the gRPC status etcd would have sent: <see cref="StatusCode"/> and etcd's exact message text in
/// <see cref="Exception.Message"/> (for example InvalidArgument "etcdserver: key is not provided"), so code written
/// against etcd's errors can match on both.
/// </summary>
public sealed class EtcdException : Exception
{
    /// <summary>Creates the exception for a status code and etcd's message.</summary>
    public EtcdException(GrpcStatusCode statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The gRPC status code.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The answer etcd gives when a request's outcome is unknown (no leader answered in time, or the client's
    /// session expired): the write may or may not have been applied.</summary>
    internal static EtcdException RequestTimedOut() => new(GrpcStatusCode.Unavailable, "etcdserver: request timed out");

    internal static EtcdException TooManyRequests() => new(GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests");

    /// <summary>The per-call timeout passed (grpc-go's message for a context deadline).</summary>
    internal static EtcdException DeadlineExceeded() => new(GrpcStatusCode.DeadlineExceeded, "context deadline exceeded");

    /// <summary>The client was disposed while the call was waiting (grpc-go's message for a closing connection).</summary>
    internal static EtcdException ClientClosing() => new(GrpcStatusCode.Cancelled, "grpc: the client connection is closing");

    internal static EtcdException From(RpcException e) => new(e.StatusCode, e.Detail, e);

    internal static EtcdException From(Store.EtcdError error) => new((GrpcStatusCode)(int)error.Code, error.Message);

    /// <inheritdoc/>
    public override string ToString() => $"{StatusCode}: {Message}";
}
