using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;

namespace CurpStore.Server.Facade;

/// <summary>
/// The bound on etcd write calls in flight, enforced by the gRPC server before it reads a call's request
/// (<see cref="GrpcServerOptions.CallLimit"/>): beyond it a write is answered "too many requests" without being decoded,
/// validated, authorized or proposed. Measured under 10x overload (README "Overload"): when each refusal went through
/// decoding, the handler and a chain of rethrown exceptions, the refusals took the CPU from the admitted writes. Sized as
/// the host's own bound (<see cref="Hosting.HostOptions.MaxPendingRequests"/>), which stays behind it for everything
/// else that proposes or reads through the leader (linearizable ranges, leases, CURP clients).
/// </summary>
/// <remarks>Only methods that always propose are bounded (Put, DeleteRange, Txn); a Range may be serializable, which
/// the host does not bound. Under overload a malformed write is answered "too many requests" rather than with its
/// validation error (etcd validates first); it gets that error once retried.</remarks>
public static class WriteAdmission
{
    /// <summary>At most <paramref name="maxCalls"/> Put, DeleteRange and Txn calls in flight at once.</summary>
    public static CallLimit Limit(int maxCalls) =>
        new(maxCalls, [KVMethods.Put.FullName, KVMethods.DeleteRange.FullName, KVMethods.Txn.FullName], EtcdStatuses.TooManyRequests);
}
