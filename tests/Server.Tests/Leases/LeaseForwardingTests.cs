using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Leases;

/// <summary>Time-to-live and keep-alive asked of a follower: it forwards them to the leader's lease clock, as etcd's
/// followers do, and answers with its own header.</summary>
[TestClass]
public sealed class LeaseForwardingTests
{
    [TestMethod]
    public async Task Follower_AnswersTimeToLiveAndKeepAlive_FromTheLeader()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var leader = await cluster.LeaderIndexAsync();
        var follower = (leader + 1) % 3;
        var channel = cluster.Channels[follower];
        var options = new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(20));
        var granted = await channel.UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = 60 }, options);
        await channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Key = WatchClient.Bytes("fw/k"), Value = WatchClient.Bytes("v"), Lease = granted.ID }, options);

        var ttl = await channel.UnaryAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = granted.ID, Keys = true }, options);
        Assert.AreEqual(60L, ttl.GrantedTTL);
        Assert.IsTrue(ttl.TTL is > 0 and <= 60, $"remaining TTL {ttl.TTL}");
        CollectionAssert.AreEqual(new[] { "fw/k" }, ttl.Keys.Select(k => k.ToStringUtf8()).ToArray());
        Assert.AreEqual(cluster.Members[follower].MemberId, ttl.Header.MemberId, "the answer carries the serving member's header");

        var unknown = await channel.UnaryAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = 0x7fff_1234 }, options);
        Assert.AreEqual(-1L, unknown.TTL);

        using var call = channel.DuplexStreaming(LeaseMethods.LeaseKeepAlive, options);
        var answers = new List<(long Id, long Ttl)>();
        foreach (var id in new[] { granted.ID, 0x7fff_1234L })
        {
            await call.RequestStream.WriteAsync(new Pb.LeaseKeepAliveRequest { ID = id });
            Assert.IsTrue(await call.ResponseStream.MoveNext(), "the keep-alive stream ended early");
            answers.Add((call.ResponseStream.Current.ID, call.ResponseStream.Current.TTL));
        }
        await call.RequestStream.CompleteAsync();
        CollectionAssert.AreEqual(new[] { (granted.ID, 60L), (0x7fff_1234L, 0L) }, answers);
    }
}
