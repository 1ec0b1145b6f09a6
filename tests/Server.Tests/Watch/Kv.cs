using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>The KV calls the watch tests write with, and barriers that wait until a member has applied something (a
/// write may be answered on the fast path before its member applied it; watches see applied state).</summary>
internal static class Kv
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private static CallOptions Options => new(Deadline: DateTime.UtcNow + CallTimeout);

    public static async Task<long> PutAsync(GrpcChannel channel, string key, string value) =>
        (await channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Key = WatchClient.Bytes(key), Value = WatchClient.Bytes(value) }, Options)).Header.Revision;

    public static async Task<long> DeleteAsync(GrpcChannel channel, string key) =>
        (await channel.UnaryAsync(KVMethods.DeleteRange, new Pb.DeleteRangeRequest { Key = WatchClient.Bytes(key) }, Options)).Header.Revision;

    /// <summary>Puts every pair in one txn (one revision).</summary>
    public static async Task<long> PutAllAsync(GrpcChannel channel, params (string Key, string Value)[] pairs)
    {
        var txn = new Pb.TxnRequest();
        txn.Success.AddRange(pairs.Select(p => new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = WatchClient.Bytes(p.Key), Value = WatchClient.Bytes(p.Value) } }));
        return (await channel.UnaryAsync(KVMethods.Txn, txn, Options)).Header.Revision;
    }

    public static Task CompactAsync(GrpcChannel channel, long revision) =>
        channel.UnaryAsync(KVMethods.Compact, new Pb.CompactionRequest { Revision = revision }, Options);

    /// <summary>Waits until the member behind <paramref name="channel"/> has applied <paramref name="revision"/>
    /// (a serializable read is answered from its applied state).</summary>
    public static async Task WaitForRevisionAsync(GrpcChannel channel, long revision)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var read = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("\0"), Serializable = true, CountOnly = true }, Options);
            if (read.Header.Revision >= revision)
            {
                return;
            }
            Assert.IsTrue(DateTime.UtcNow < deadline, $"revision {revision} not applied within 30 s (at {read.Header.Revision})");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the member has applied a compaction at <paramref name="revision"/>: a serializable read just
    /// below it fails as etcd's does.</summary>
    public static async Task WaitForCompactionAsync(GrpcChannel channel, long revision)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("x"), Serializable = true, Revision = revision - 1 }, Options);
            }
            catch (RpcException e) when (e.Detail == "etcdserver: mvcc: required revision has been compacted")
            {
                return;
            }
            Assert.IsTrue(DateTime.UtcNow < deadline, $"compaction at {revision} not applied within 30 s");
            await Task.Delay(20);
        }
    }
}
