using CurpStore.Rpc;
using CurpStore.Server.Hosting;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Members;

/// <summary>
/// etcd 3.5's gRPC interceptors for members that are not full members: a learner serves only Status, serializable
/// ranges and snapshots (everything else: <c>etcdserver: rpc not supported for learner</c>); a member removed from the
/// cluster serves nothing while it shuts down.
/// </summary>
public static class MemberAdmission
{
    public static readonly RpcException NotSupportedForLearner = new(GrpcStatusCode.Unavailable, "etcdserver: rpc not supported for learner");

    public static readonly RpcException Removed = new(GrpcStatusCode.Unavailable, "etcdserver: the member has been permanently removed from the cluster");

    /// <summary>The refusal of a call to member <paramref name="self"/> in state <paramref name="status"/>, or null;
    /// <paramref name="removed"/>: the member knows it was removed.</summary>
    public static RpcException? Judge(HostStatus status, ulong self, bool removed, string method, IMessage? request)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (removed)
        {
            return Removed;
        }
        if (!status.Members.Learners.Contains(self))
        {
            return null;
        }
        return request switch
        {
            Pb.StatusRequest => null,
            Pb.RangeRequest { Serializable: true } => null,
            Pb.SnapshotRequest when method == Rpc.Etcd.MaintenanceMethods.Snapshot.FullName => null,
            _ => NotSupportedForLearner,
        };
    }
}
