using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using LockPb = CurpStore.Rpc.Etcd.V3LockPb;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's <c>v3lockpb.Lock</c> service, as etcd's <c>v3lock</c> package serves it with the <c>concurrency.Mutex</c>
/// recipe: the waiter key is <c>name/</c> followed by the lease id in hex, created if absent with the caller's lease;
/// the oldest waiter (lowest create revision) holds the lock; a later one waits for the deletion of every older
/// waiter. The response key is the owner key; Unlock deletes it.
/// </summary>
internal sealed class LockService(KeyRecipes recipes)
{
    /// <summary>etcd's <c>concurrency.ErrSessionExpired</c>: the waiter's key went away (its lease expired or was
    /// revoked) while it waited. A plain Go error, so gRPC's Unknown code.</summary>
    public static readonly RpcException SessionExpired = new(RpcStatus.Unknown, "mutex: session is expired");

    public void Register(GrpcServer server)
    {
        server.AddUnaryMethod(LockMethods.Lock, (request, context) => KeyRecipes.AsEtcdClientErrors(() => LockAsync(request, context)));
        server.AddUnaryMethod(LockMethods.Unlock, (request, context) => KeyRecipes.AsEtcdClientErrors(() => UnlockAsync(request, context)));
    }

    private async Task<LockPb.LockResponse> LockAsync(LockPb.LockRequest request, ServerCallContext context)
    {
        var facade = recipes.Facade;
        facade.ThrowIfTooLarge(request);
        var leaseId = await recipes.SessionLeaseAsync(request.Lease, context).ConfigureAwait(false);
        var prefix = (byte[])[.. request.Name.Span, (byte)'/'];
        var key = KeyRecipes.WaiterKey(prefix, leaseId);
        var acquire = await recipes.CreateIfAbsentAsync(key, [], leaseId, prefix, context).ConfigureAwait(false);
        var myRevision = acquire.Succeeded ? acquire.Header.Revision : acquire.Responses[0].ResponseRange!.Kvs[0].CreateRevision;
        var owner = acquire.Responses[1].ResponseRange!.Kvs;
        var header = acquire.Header;
        if (owner.Count != 0 && owner[0].CreateRevision != myRevision)
        {
            try
            {
                await recipes.WaitDeletesAsync(prefix, myRevision - 1, context).ConfigureAwait(false);
                var mine = (RangeResponse)await facade.ReadAsync(new RangeRequest { Key = key }, serializable: false, context).ConfigureAwait(false);
                if (mine.Kvs.Count == 0)
                {
                    throw SessionExpired;
                }
                header = mine.Header;
            }
            catch (Exception e) when (e != SessionExpired)
            {
                // As etcd's Mutex: a waiter that gives up removes its key, so that it does not hold the lock later.
                await recipes.CleanupAsync(token => facade.ProposeAsync(new DeleteRangeRequest { Key = key }, context, token)).ConfigureAwait(false);
                throw;
            }
        }
        return new LockPb.LockResponse { Header = EtcdProtoMapping.ToProto(header, facade.HeaderIds), Key = ByteString.CopyFrom(key) };
    }

    private async Task<LockPb.UnlockResponse> UnlockAsync(LockPb.UnlockRequest request, ServerCallContext context)
    {
        var facade = recipes.Facade;
        var delete = new DeleteRangeRequest { Key = request.Key.ToByteArray() };
        EtcdFacadeContext.ThrowIfInvalid(RequestValidator.ValidateDeleteRange(delete));
        var response = await facade.ProposeAsync(delete, context).ConfigureAwait(false);
        return new LockPb.UnlockResponse { Header = EtcdProtoMapping.ToProto(response.Header, facade.HeaderIds) };
    }
}
