using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Cluster;

/// <summary><c>--strict-reconfig-check</c> on 3-member in-process clusters with one follower down: on (the default),
/// adding even a learner is refused with etcd's "unhealthy cluster" once the leader no longer hears the follower; off,
/// the learner is added (it does not count for the quorum, so the change commits with the two members left).</summary>
[TestClass]
public sealed class ReconfigCheckTests
{
    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public async Task AddingALearner_WhileAVoterIsDown_IsRefusedOnlyUnderTheStrictCheck(bool strict)
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { StrictReconfigCheck = strict });
        var leader = await cluster.LeaderIndexAsync();
        var down = (leader + 1) % 3;
        var downId = cluster.Members[down].MemberId;
        await cluster.StopAsync(down);
        await Wait.UntilAsync("the leader no longer hears the stopped follower", TimeSpan.FromSeconds(30),
            async () => !(await cluster.Members[leader].Host.InvokeAsync(node => node.RecentlyHeardMembers())).Contains(downId));

        var add = () => cluster.Channels[leader].UnaryAsync(ClusterMethods.MemberAdd,
            new Pb.MemberAddRequest { PeerURLs = { $"http://127.0.0.1:{ServerProcessHarness.FreePort()}" }, IsLearner = true },
            new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(20)));
        if (strict)
        {
            var refused = await Assert.ThrowsExactlyAsync<RpcException>(add);
            Assert.AreEqual((GrpcStatusCode.Unavailable, "etcdserver: unhealthy cluster"), (refused.StatusCode, refused.Detail));
            return;
        }
        var added = await add();
        Assert.IsTrue(added.Members.Any(m => m.ID == added.Member.ID && m.IsLearner), added.ToString());
        Assert.AreEqual(4, added.Members.Count, cluster.Log);
    }
}
