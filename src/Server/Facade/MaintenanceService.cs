using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Members;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>etcd's Maintenance service (Status here; Hash, HashKV, Snapshot, Defragment and MoveLeader in the
/// partial file), enough for <c>etcdctl endpoint status</c>, <c>endpoint health</c>,
/// <c>endpoint hashkv</c>, <c>snapshot save</c>, <c>defrag</c> and <c>move-leader</c>.</summary>
public sealed partial class MaintenanceService(EtcdFacadeContext facade, MemberDirectory directory)
{
    /// <summary>The etcd API version this server emulates (kube-apiserver and etcdctl read it from Status).</summary>
    public const string EmulatedEtcdVersion = "3.5.0";

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(MaintenanceMethods.Status, StatusAsync);
        RegisterOperations(server);
    }

    private async Task<Pb.StatusResponse> StatusAsync(Pb.StatusRequest request, ServerCallContext context)
    {
        var status = facade.Host.Status;
        // The store belongs to the host's loop thread: read its revision there.
        var revision = await facade.Host.InvokeAsync(_ => facade.Machine.Revision, context.CancellationToken).ConfigureAwait(false);
        var (dbSizeBytes, dbSizeInUseBytes) = DbSizes();
        var response = new Pb.StatusResponse
        {
            Header = facade.Header(revision),
            Version = EmulatedEtcdVersion,
            DbSize = dbSizeBytes,
            Leader = status.LeaderId,
            RaftIndex = status.CommitIndex,
            RaftTerm = status.Term,
            RaftAppliedIndex = status.AppliedIndex,
            DbSizeInUse = dbSizeInUseBytes,
            IsLearner = directory.Find(facade.MemberId)?.IsLearner ?? false,
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

    /// <summary>Status's sizes as an operator reads etcd's: <c>dbSize</c> is what the store engine's files take on disk
    /// (as etcd's is its bolt file's size, never 0), <c>dbSizeInUse</c> that less the record bytes compaction freed and a
    /// defragment has not given back yet (as etcd's is its file less the free pages). The quota is not checked against
    /// these but against the store's own record bytes (<see cref="Store.EtcdStateMachine.DbSizeBytes"/>), which every
    /// member counts alike, where file sizes depend on each engine's checkpoints.</summary>
    private (long DbSizeBytes, long DbSizeInUseBytes) DbSizes()
    {
        var onDiskBytes = Storage.BackendFiles.SizeBytes(facade.BackendDirectory);
        var freedBytes = Math.Max(0, facade.Machine.DbSizeBytes - facade.Machine.DbSizeInUseBytes);
        return (onDiskBytes, Math.Max(0, onDiskBytes - freedBytes));
    }

    /// <summary>etcd's enum names (protobuf's C# names are Nospace and Corrupt).</summary>
    private static string AlarmName(Store.AlarmType alarm) => alarm switch
    {
        Store.AlarmType.NoSpace => "NOSPACE",
        Store.AlarmType.Corrupt => "CORRUPT",
        _ => "NONE",
    };
}
