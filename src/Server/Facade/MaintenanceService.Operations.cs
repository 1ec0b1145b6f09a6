using System.Security.Cryptography;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using CurpStore.Wal;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>The Maintenance RPCs that act on the store or the core: Hash, HashKV, Snapshot, Defragment, MoveLeader,
/// and Alarm.
/// As in etcd each needs an admin requester when auth is on.</summary>
public sealed partial class MaintenanceService
{
    /// <summary>etcd's <c>snapshotSendBufferSize</c>: the blob size of each Snapshot message.</summary>
    public const int SnapshotChunkBytes = 32 * 1024;

    /// <summary>How long MoveLeader waits for the transferee to win (etcd waits for the request's deadline; this
    /// bounds it for clients that set none).</summary>
    public TimeSpan MoveLeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often MoveLeader looks whether the transferee leads yet (etcd polls every tick).</summary>
    public TimeSpan MoveLeaderPollInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>etcdctl's <c>hasChecksum</c> accepts a snapshot only if its size modulo 512 is the digest's 32 bytes
    /// (a bbolt file is whole pages): the image is padded with zeros to a multiple of this.</summary>
    public const int SnapshotAlignmentBytes = 512;

    private static readonly EtcdCommandCodec SnapshotCodec = new();

    private static readonly RpcException NotLeader = new(RpcStatus.FailedPrecondition, "etcdserver: not leader");

    private static readonly RpcException BadLeaderTransferee = new(RpcStatus.FailedPrecondition, "etcdserver: bad leader transferee");

    private static readonly RpcException LeaderTransferTimeout = new(RpcStatus.Unavailable, "etcdserver: request timed out, leader transfer took too long");

    private void RegisterOperations(GrpcServer server)
    {
        server.AddUnaryMethod(MaintenanceMethods.Hash, HashAsync);
        server.AddUnaryMethod(MaintenanceMethods.HashKV, HashKvAsync);
        server.AddUnaryMethod(MaintenanceMethods.Defragment, DefragmentAsync);
        server.AddServerStreamingMethod(MaintenanceMethods.Snapshot, SnapshotAsync);
        server.AddUnaryMethod(MaintenanceMethods.MoveLeader, MoveLeaderAsync);
        server.AddUnaryMethod(MaintenanceMethods.Alarm, AlarmAsync);
    }

    /// <summary>etcd's HashKV (see <see cref="KvHash"/>).</summary>
    private async Task<Pb.HashKVResponse> HashKvAsync(Pb.HashKVRequest request, ServerCallContext context)
    {
        await facade.Auth.ThrowUnlessMaintenanceAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        return await KvHash.ComputeAsync(facade, request.Revision, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>etcd's Hash covers its whole bbolt file, which CurpStore does not have: this is a CRC-32C of the
    /// member's snapshot image (every record and meta entry, the consistent index included), CurpStore's own value,
    /// equal on members at the same applied index.</summary>
    private async Task<Pb.HashResponse> HashAsync(Pb.HashRequest request, ServerCallContext context)
    {
        await facade.Auth.ThrowUnlessMaintenanceAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        var (image, revision) = await CaptureAsync(context).ConfigureAwait(false);
        return new Pb.HashResponse { Header = facade.Header(revision), Hash = Crc32C.Compute(SnapshotCodec.EncodeSnapshot(image)) };
    }

    private async Task<Pb.DefragmentResponse> DefragmentAsync(Pb.DefragmentRequest request, ServerCallContext context)
    {
        await facade.Auth.ThrowUnlessMaintenanceAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        var revision = await facade.Host.InvokeAsync(_ =>
        {
            facade.Machine.Defragment();
            return facade.Machine.Revision;
        }, context.CancellationToken).ConfigureAwait(false);
        return new Pb.DefragmentResponse { Header = facade.Header(revision) };
    }

    /// <summary>etcd's Snapshot stream: the image (CurpStore's snapshot format, not a bbolt file) in 32 KiB blobs, each
    /// with the bytes still to come, then the image's SHA-256 as the last blob with nothing remaining, as etcd sends
    /// it. The image is captured on the loop thread in one step (consistent) and encoded off it; the whole image is
    /// held in memory while it streams. The image is padded with zero bytes to a multiple of 512 bytes.</summary>
    private async Task SnapshotAsync(Pb.SnapshotRequest request, IServerStreamWriter<Pb.SnapshotResponse> responses, ServerCallContext context)
    {
        await facade.Auth.ThrowUnlessMaintenanceAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        var (image, revision) = await CaptureAsync(context).ConfigureAwait(false);
        var encoded = SnapshotCodec.EncodeSnapshot(image);
        var bytes = new byte[(encoded.Length + SnapshotAlignmentBytes - 1) / SnapshotAlignmentBytes * SnapshotAlignmentBytes];
        encoded.CopyTo(bytes, 0);
        var header = facade.Header(revision);
        for (var sent = 0; sent < bytes.Length;)
        {
            var count = Math.Min(SnapshotChunkBytes, bytes.Length - sent);
            var blob = ByteString.CopyFrom(bytes, sent, count);
            sent += count;
            await responses.WriteAsync(new Pb.SnapshotResponse { Header = header, RemainingBytes = (ulong)(bytes.Length - sent), Blob = blob }, context.CancellationToken).ConfigureAwait(false);
        }
        var digest = ByteString.CopyFrom(SHA256.HashData(bytes));
        await responses.WriteAsync(new Pb.SnapshotResponse { Header = header, RemainingBytes = 0, Blob = digest }, context.CancellationToken).ConfigureAwait(false);
    }

    private Task<(EtcdSnapshot Image, long Revision)> CaptureAsync(ServerCallContext context) =>
        facade.Host.InvokeAsync(_ => (facade.Machine.CaptureImage(), facade.Machine.Revision), context.CancellationToken);

    /// <summary>etcd's Alarm: GET, ACTIVATE and DEACTIVATE all go through the log (as etcd sends them through raft),
    /// so a listing reflects every alarm applied before it and a change reaches every member.</summary>
    private async Task<Pb.AlarmResponse> AlarmAsync(Pb.AlarmRequest request, ServerCallContext context)
    {
        var response = await facade.ProposeAlarmAsync(EtcdProtoMapping.ToStore(request), context.CancellationToken).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto(response, facade.HeaderIds);
    }

    /// <summary>etcd's MoveLeader: only the leader accepts; the target must be a voting member; returns once the target
    /// leads (the core sends it TimeoutNow as soon as its log is up to date).</summary>
    private async Task<Pb.MoveLeaderResponse> MoveLeaderAsync(Pb.MoveLeaderRequest request, ServerCallContext context)
    {
        if (facade.Host.Status.LeaderId != facade.MemberId)
        {
            throw NotLeader;
        }
        if (!facade.Host.Status.Voters.Contains(request.TargetID))
        {
            throw BadLeaderTransferee;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        timeout.CancelAfter(MoveLeaderTimeout);
        try
        {
            while (facade.Host.Status.LeaderId != request.TargetID)
            {
                var stillLeader = await facade.Host.InvokeAsync(node =>
                {
                    if (!node.IsLeader)
                    {
                        return false;
                    }
                    node.TransferLeadership(request.TargetID);
                    return true;
                }, timeout.Token).ConfigureAwait(false);
                if (!stillLeader && facade.Host.Status.LeaderId != 0 && facade.Host.Status.LeaderId != request.TargetID)
                {
                    // Another member won the election the transfer started: the transfer failed as in etcd, by timeout.
                    throw LeaderTransferTimeout;
                }
                await Task.Delay(MoveLeaderPollInterval, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw LeaderTransferTimeout;
        }
        var revision = await facade.Host.InvokeAsync(_ => facade.Machine.Revision, context.CancellationToken).ConfigureAwait(false);
        return new Pb.MoveLeaderResponse { Header = facade.Header(revision) };
    }
}
