using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>The member directory: names and URLs of the members this one knows, for MemberList and Status.</summary>
public sealed record MemberInfo(ulong Id, string Name, IReadOnlyList<Uri> PeerUrls, IReadOnlyList<Uri> ClientUrls);

/// <summary>etcd's Maintenance service (Status here; Hash, HashKV, Snapshot, Defragment and MoveLeader in the
/// partial file) and Cluster.MemberList, enough for <c>etcdctl endpoint status</c>, <c>endpoint health</c>,
/// <c>endpoint hashkv</c>, <c>snapshot save</c>, <c>defrag</c>, <c>move-leader</c> and <c>member list</c>.</summary>
public sealed partial class MaintenanceService(EtcdFacadeContext facade, IReadOnlyList<MemberInfo> members)
{
    /// <summary>The etcd API version this server emulates (kube-apiserver and etcdctl read it from Status).</summary>
    public const string EmulatedEtcdVersion = "3.5.0";

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(MaintenanceMethods.Status, StatusAsync);
        server.AddUnaryMethod(ClusterMethods.MemberList, MemberListAsync);
        RegisterOperations(server);
    }

    private async Task<Pb.StatusResponse> StatusAsync(Pb.StatusRequest request, ServerCallContext context)
    {
        var status = facade.Host.Status;
        // The store belongs to the host's loop thread: read its revision there.
        var revision = await facade.Host.InvokeAsync(_ => facade.Machine.Revision, context.CancellationToken).ConfigureAwait(false);
        var response = new Pb.StatusResponse
        {
            Header = facade.Header(revision),
            Version = EmulatedEtcdVersion,
            DbSize = facade.Machine.DbSizeBytes,
            Leader = status.LeaderId,
            RaftIndex = status.CommitIndex,
            RaftTerm = status.Term,
            RaftAppliedIndex = status.AppliedIndex,
            DbSizeInUse = facade.Machine.DbSizeInUseBytes,
            IsLearner = false,
        };
        if (status.LeaderId == 0)
        {
            response.Errors.Add("etcdserver: no leader");
        }
        // As etcd's Status: every active alarm as its AlarmMember text (etcdctl shows them under ERRORS).
        foreach (var alarm in facade.Machine.Alarms.All)
        {
            response.Errors.Add($"memberID:{alarm.MemberId} alarm:{AlarmName(alarm.Alarm)} ");
        }
        return response;
    }

    /// <summary>etcd's enum names (protobuf's C# names are Nospace and Corrupt).</summary>
    private static string AlarmName(Store.AlarmType alarm) => alarm switch
    {
        Store.AlarmType.NoSpace => "NOSPACE",
        Store.AlarmType.Corrupt => "CORRUPT",
        _ => "NONE",
    };

    private async Task<Pb.MemberListResponse> MemberListAsync(Pb.MemberListRequest request, ServerCallContext context)
    {
        var revision = await facade.Host.InvokeAsync(_ => facade.Machine.Revision, context.CancellationToken).ConfigureAwait(false);
        var response = new Pb.MemberListResponse { Header = facade.Header(revision) };
        var voters = facade.Host.Status.Voters;
        foreach (var member in members.Where(m => voters.IsDefaultOrEmpty || voters.Contains(m.Id)))
        {
            var proto = new Pb.Member { ID = member.Id, Name = member.Name };
            proto.PeerURLs.AddRange(member.PeerUrls.Select(u => u.OriginalString.TrimEnd('/')));
            proto.ClientURLs.AddRange(member.ClientUrls.Select(u => u.OriginalString.TrimEnd('/')));
            response.Members.Add(proto);
        }
        return response;
    }
}
