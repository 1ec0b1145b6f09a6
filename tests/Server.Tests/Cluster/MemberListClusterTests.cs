using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Cluster;

/// <summary>MemberList's <c>linearizable</c> option (etcd 3.5) on a 3-member in-process cluster.</summary>
[TestClass]
public sealed class MemberListClusterTests
{
    private static CallOptions Options(TimeSpan timeout) => new(Deadline: DateTime.UtcNow + timeout);

    [TestMethod]
    public async Task ALinearizableList_OnAFollower_HoldsEveryMemberAddedBefore_AndNeedsAQuorum_WhileAPlainOneIsLocal()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var leader = await cluster.LeaderIndexAsync();
        var follower = (leader + 1) % 3;
        // MemberAdd answers once the configuration is committed: a linearizable list asked afterwards on any member
        // must hold the learner, whatever that member had applied when asked.
        for (var i = 0; i < 3; i++)
        {
            var added = await cluster.Channels[leader].UnaryAsync(ClusterMethods.MemberAdd,
                new Pb.MemberAddRequest { PeerURLs = { $"http://127.0.0.1:{ServerProcessHarness.FreePort()}" }, IsLearner = true }, Options(TimeSpan.FromSeconds(15)));
            var listed = await cluster.Channels[follower].UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest { Linearizable = true }, Options(TimeSpan.FromSeconds(15)));
            Assert.IsTrue(listed.Members.Any(m => m.ID == added.Member.ID && m.IsLearner), $"{added.Member.ID:x} missing from {listed}\n{cluster.Log}");
            var removed = await cluster.Channels[leader].UnaryAsync(ClusterMethods.MemberRemove, new Pb.MemberRemoveRequest { ID = added.Member.ID }, Options(TimeSpan.FromSeconds(15)));
            listed = await cluster.Channels[follower].UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest { Linearizable = true }, Options(TimeSpan.FromSeconds(15)));
            Assert.IsFalse(listed.Members.Any(m => m.ID == added.Member.ID), $"{added.Member.ID:x} still in {listed}");
            Assert.AreEqual(3, removed.Members.Count);
        }

        // Alone, the follower still answers from its own copy, but a linearizable list cannot be served.
        await cluster.StopAsync(leader);
        await cluster.StopAsync((leader + 2) % 3);
        var local = await cluster.Channels[follower].UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest(), Options(TimeSpan.FromSeconds(15)));
        Assert.AreEqual(3, local.Members.Count);
        await Assert.ThrowsExactlyAsync<RpcException>(() =>
            cluster.Channels[follower].UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest { Linearizable = true }, Options(TimeSpan.FromSeconds(3))));
    }
}
