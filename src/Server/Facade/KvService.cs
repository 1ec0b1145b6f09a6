using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using CurpStore.Wire.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>etcd's KV service. Writes from plain etcd clients take the CURP fast path: this member proposes them to
/// every member; linearizable ranges go through ReadIndex, serializable ones are local.</summary>
public sealed class KvService(EtcdFacadeContext facade)
{
    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(KVMethods.Range, RangeAsync);
        server.AddUnaryMethod(KVMethods.Put, PutAsync);
        server.AddUnaryMethod(KVMethods.DeleteRange, DeleteRangeAsync);
        server.AddUnaryMethod(KVMethods.Txn, TxnAsync);
        server.AddUnaryMethod(KVMethods.Compact, CompactAsync);
    }

    private async Task<Pb.RangeResponse> RangeAsync(Pb.RangeRequest request, ServerCallContext context)
    {
        var range = EtcdProtoMapping.ToStore(request);
        EtcdFacadeContext.ThrowIfInvalid(RequestValidator.ValidateRange(range));
        var response = await facade.ReadAsync(range, range.Serializable, context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((RangeResponse)response, facade.HeaderIds);
    }

    private async Task<Pb.PutResponse> PutAsync(Pb.PutRequest request, ServerCallContext context)
    {
        var put = EtcdProtoMapping.ToStore(request);
        EtcdFacadeContext.ThrowIfInvalid(RequestValidator.ValidatePut(put));
        facade.ThrowIfTooLarge(request);
        var response = await facade.ProposeAsync(put, context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((PutResponse)response, facade.HeaderIds);
    }

    private async Task<Pb.DeleteRangeResponse> DeleteRangeAsync(Pb.DeleteRangeRequest request, ServerCallContext context)
    {
        var delete = EtcdProtoMapping.ToStore(request);
        EtcdFacadeContext.ThrowIfInvalid(RequestValidator.ValidateDeleteRange(delete));
        facade.ThrowIfTooLarge(request);
        var response = await facade.ProposeAsync(delete, context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((DeleteRangeResponse)response, facade.HeaderIds);
    }

    private async Task<Pb.TxnResponse> TxnAsync(Pb.TxnRequest request, ServerCallContext context)
    {
        var txn = EtcdProtoMapping.ToStore(request);
        EtcdFacadeContext.ThrowIfInvalid(RequestValidator.ValidateTxn(txn, facade.Machine.Options.MaxTxnOps));
        facade.ThrowIfTooLarge(request);
        var response = await facade.ProposeAsync(txn, context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((TxnResponse)response, facade.HeaderIds);
    }

    private async Task<Pb.CompactionResponse> CompactAsync(Pb.CompactionRequest request, ServerCallContext context)
    {
        var response = await facade.ProposeAsync(EtcdProtoMapping.ToStore(request), context).ConfigureAwait(false);
        return EtcdProtoMapping.ToProto((CompactionResponse)response, facade.HeaderIds);
    }
}
