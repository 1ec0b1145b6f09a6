using CurpStore.Rpc;

namespace CurpStore.Server;

/// <summary>etcd's rpctypes errors that more than one part of the member answers (the facade, auth, the gRPC server's
/// call limit), spelled once so the code and the text stay etcd's everywhere.</summary>
public static class EtcdStatuses
{
    /// <summary>etcd's rpctypes.ErrGRPCTooManyRequests.</summary>
    public static readonly GrpcStatus TooManyRequests = new(GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests");

    /// <summary>A new exception carrying <paramref name="status"/>, to throw.</summary>
    public static RpcException ToException(this GrpcStatus status) => new(status.StatusCode, status.Detail);
}
