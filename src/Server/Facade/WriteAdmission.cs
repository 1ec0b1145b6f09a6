using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;

namespace CurpStore.Server.Facade;

/// <summary>
/// The bound on etcd write calls in flight, enforced by the gRPC server before it reads a call's request
/// (<see cref="GrpcServerOptions.CallLimit"/>): beyond it a write waits for a place, briefly and in a bounded room, and
/// is otherwise answered "too many requests" without being decoded, validated, authorized or proposed. Measured under
/// 10x overload (README "Overload"): when each refusal went through decoding, the handler and a chain of rethrown
/// exceptions, the refusals took the CPU from the admitted writes, and when every call beyond the bound was refused at
/// once, clients that retried at once kept the member busy refusing. Sized by --experimental-max-writes-in-flight
/// (<see cref="Configuration.ServerOptions.MaxWritesInFlight"/>); the host's own bound
/// (<see cref="Hosting.HostOptions.MaxPendingRequests"/>) stays behind it for everything else that proposes or reads
/// through the leader (linearizable ranges, leases, CURP clients).
/// </summary>
/// <remarks>Only methods that always propose are bounded (Put, DeleteRange, Txn); a Range may be serializable, which
/// the host does not bound. Under overload a malformed write is answered "too many requests" rather than with its
/// validation error (etcd validates first); it gets that error once retried.</remarks>
public static class WriteAdmission
{
    /// <summary>How long a write waits for a place at most before it is refused: long enough for the writes ahead of it
    /// to drain at the rate of a loaded member (a full waiting room of a one-member store drains in about half a second
    /// at 8,000 puts/s), short against etcd clients' request timeouts (etcdctl's 5 s).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    /// <summary>Writes waiting for a place at once, per place in flight (4,096 for the default 256 places): a waiting
    /// write costs only its HTTP/2 stream (its request is not read), so a burst queues instead of being refused.</summary>
    public const int WaitingPerPlace = 16;

    /// <summary>At most <paramref name="maxCalls"/> Put, DeleteRange and Txn calls in flight at once, and
    /// <see cref="WaitingPerPlace"/> times as many waiting for a place, each at most <see cref="MaxWait"/>.</summary>
    public static CallLimit Limit(int maxCalls) =>
        new(maxCalls, WaitingPerPlace * maxCalls, MaxWait, [KVMethods.Put.FullName, KVMethods.DeleteRange.FullName, KVMethods.Txn.FullName], EtcdStatuses.TooManyRequests);
}
