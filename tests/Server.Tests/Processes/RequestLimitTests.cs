using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Processes;

/// <summary>--max-request-bytes and --max-txn-ops, checked against CurpStore and against Debian's real etcd in the same
/// test: the same requests must get the same gRPC codes and messages from both.</summary>
[TestClass]
public sealed class RequestLimitTests
{
    [TestMethod]
    [DataRow("curpstore")]
    [DataRow("etcd")]
    public async Task RequestAndTxnLimits_AnswerAsEtcdDoes(string system)
    {
        using var harness = new ServerProcessHarness();
        var endpoint = harness.StartSingleMember(system, "--max-request-bytes", "2048", "--max-txn-ops", "2");
        using var channel = new GrpcChannel(endpoint, new GrpcChannelOptions { MaxSendMessageSize = 8 << 20 });
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));

        Task<Pb.PutResponse> Put(int valueBytes) => channel.UnaryAsync(KVMethods.Put,
            new Pb.PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFrom(new byte[valueBytes]) });

        Assert.IsTrue((await Put(1_000)).Header.Revision > 1, "a request under the limit is served");
        var tooLarge = await Assert.ThrowsExactlyAsync<RpcException>(() => Put(3_000));
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: request is too large"), (tooLarge.StatusCode, tooLarge.Status.Detail));
        var overGrpcLimit = await Assert.ThrowsExactlyAsync<RpcException>(() => Put(600 * 1024));
        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, overGrpcLimit.StatusCode, overGrpcLimit.Status.Detail);
        StringAssert.StartsWith(overGrpcLimit.Status.Detail, "grpc: received message larger than max");

        var put = new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = ByteString.CopyFromUtf8("t"), Value = ByteString.CopyFromUtf8("v") } };
        var tooMany = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            channel.UnaryAsync(KVMethods.Txn, new Pb.TxnRequest { Success = { put, put.Clone(), put.Clone() } }));
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request"), (tooMany.StatusCode, tooMany.Status.Detail));
        var two = new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = ByteString.CopyFromUtf8("u"), Value = ByteString.CopyFromUtf8("v") } };
        var txn = await channel.UnaryAsync(KVMethods.Txn, new Pb.TxnRequest { Success = { put, two } });
        Assert.IsTrue(txn.Succeeded, "two operations are within --max-txn-ops 2");
    }
}
