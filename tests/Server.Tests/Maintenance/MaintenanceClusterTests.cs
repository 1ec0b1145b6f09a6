using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>Hash, HashKV and MoveLeader on a 3-member in-process cluster.</summary>
[TestClass]
public sealed class MaintenanceClusterTests
{
    private static CallOptions Options => new(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(15));

    [TestMethod]
    public async Task HashKv_IsEqualOnEveryMember_CoversHistoryUpToTheRevision_AndRefusesCompactedAndFutureRevisions()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var leader = await cluster.LeaderIndexAsync();
        var channel = cluster.Channels[leader];
        for (var i = 0; i < 5; i++)
        {
            await Kv.PutAsync(channel, $"h/{i}", $"v{i}");
        }
        await Kv.DeleteAsync(channel, "h/0");
        var compacted = await Kv.PutAsync(channel, "h/1", "again");
        await Kv.CompactAsync(channel, compacted);
        await Kv.PutAsync(channel, "h/2", "later");
        var last = await Kv.PutAsync(channel, "h/3", "last");
        foreach (var member in cluster.Channels)
        {
            await Kv.WaitForRevisionAsync(member, last);
        }

        var atLast = await Task.WhenAll(cluster.Channels.Select(c => HashKvAsync(c, last)));
        Assert.AreEqual(1, atLast.Select(r => r.Hash).Distinct().Count(), string.Join(", ", atLast.Select(r => r.Hash)));
        foreach (var response in atLast)
        {
            Assert.AreEqual(last, response.HashRevision);
            Assert.AreEqual(compacted, response.CompactRevision);
            Assert.AreEqual(last, response.Header.Revision);
        }
        var current = await HashKvAsync(cluster.Channels[(leader + 1) % 3], 0);
        Assert.AreEqual(last, current.HashRevision);
        Assert.AreEqual(atLast[0].Hash, current.Hash);
        var before = await Task.WhenAll(cluster.Channels.Select(c => HashKvAsync(c, last - 1)));
        Assert.AreEqual(1, before.Select(r => r.Hash).Distinct().Count());
        Assert.AreNotEqual(atLast[0].Hash, before[0].Hash, "the last put must change the hash");

        var compactedError = await Assert.ThrowsExactlyAsync<RpcException>(() => HashKvAsync(channel, compacted));
        Assert.AreEqual(GrpcStatusCode.OutOfRange, compactedError.StatusCode);
        Assert.AreEqual("etcdserver: mvcc: required revision has been compacted", compactedError.Detail);
        var futureError = await Assert.ThrowsExactlyAsync<RpcException>(() => HashKvAsync(channel, last + 100));
        Assert.AreEqual(GrpcStatusCode.OutOfRange, futureError.StatusCode);
        Assert.AreEqual("etcdserver: mvcc: required revision is a future revision", futureError.Detail);

        // Hash covers the whole image, applied index included: members agree once they applied the same entries.
        var hashes = new List<uint>();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            hashes = [.. (await Task.WhenAll(cluster.Channels.Select(c => c.UnaryAsync(MaintenanceMethods.Hash, new Pb.HashRequest(), Options)))).Select(r => r.Hash)];
            if (hashes.Distinct().Count() == 1)
            {
                break;
            }
            await Task.Delay(50);
        }
        Assert.AreEqual(1, hashes.Distinct().Count(), string.Join(", ", hashes));
        // A fast-path write is answered before its member applied it: wait until it did.
        await Kv.WaitForRevisionAsync(channel, await Kv.PutAsync(channel, "h/4", "changed"));
        var changed = await channel.UnaryAsync(MaintenanceMethods.Hash, new Pb.HashRequest(), Options);
        Assert.AreNotEqual(hashes[0], changed.Hash);
    }

    [TestMethod]
    public async Task MoveLeader_HandsLeadershipToTheTarget_OnlyOnTheLeader_AndOnlyToAMember()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var leader = await cluster.LeaderIndexAsync();
        var target = (leader + 1) % 3;
        var targetId = cluster.Members[target].MemberId;

        var notLeader = await Assert.ThrowsExactlyAsync<RpcException>(() => MoveLeaderAsync(cluster.Channels[target], targetId));
        Assert.AreEqual(GrpcStatusCode.FailedPrecondition, notLeader.StatusCode);
        Assert.AreEqual("etcdserver: not leader", notLeader.Detail);
        var unknown = await Assert.ThrowsExactlyAsync<RpcException>(() => MoveLeaderAsync(cluster.Channels[leader], 12345));
        Assert.AreEqual(GrpcStatusCode.FailedPrecondition, unknown.StatusCode);
        Assert.AreEqual("etcdserver: bad leader transferee", unknown.Detail);

        var moved = await MoveLeaderAsync(cluster.Channels[leader], targetId);
        Assert.AreEqual(cluster.Members[leader].MemberId, moved.Header.MemberId);
        var status = await cluster.Channels[target].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
        Assert.AreEqual(targetId, status.Leader, cluster.Log);
        Assert.AreEqual(target, await cluster.LeaderIndexAsync());

        // The new leader serves writes, and moving to the current leader is a no-op as in etcd.
        await Kv.PutAsync(cluster.Channels[target], "after/move", "v");
        await MoveLeaderAsync(cluster.Channels[target], targetId);
        Assert.AreEqual(target, await cluster.LeaderIndexAsync());
    }

    /// <summary>The expected values are what Debian's etcd 3.4.23 answered to <c>etcdctl endpoint hashkv</c> after the
    /// same commands (puts k1..k5 = v1..v5, del k1, put k2 again; then compact 6 and put k3 x).</summary>
    [TestMethod]
    public async Task HashKv_EqualsEtcds_ForTheSameHistory_BeforeAndAfterCompaction()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var channel = cluster.Channels[0];
        for (var i = 1; i <= 5; i++)
        {
            await Kv.PutAsync(channel, $"k{i}", $"v{i}");
        }
        await Kv.DeleteAsync(channel, "k1");
        await Kv.WaitForRevisionAsync(channel, await Kv.PutAsync(channel, "k2", "again"));
        Assert.AreEqual(2158665087u, (await HashKvAsync(channel, 0)).Hash);
        Assert.AreEqual(4178063679u, (await HashKvAsync(channel, 4)).Hash);

        await Kv.CompactAsync(channel, 6);
        await Kv.WaitForRevisionAsync(channel, await Kv.PutAsync(channel, "k3", "x"));
        Assert.AreEqual(2336528054u, (await HashKvAsync(channel, 0)).Hash);
        Assert.AreEqual(665639621u, (await HashKvAsync(channel, 7)).Hash);
    }

    [TestMethod]
    public async Task Defragment_BetweenWrites_LeavesAStoreThatRestartsWithTheSameHistory()
    {
        // Small snapshots, so the defragment checkpoint lands after a snapshot the restart starts from.
        await using var cluster = await InProcessMembers.StartAsync(1, options => options with { SnapshotCount = 8 });
        var channel = cluster.Channels[0];
        for (var i = 0; i < 20; i++)
        {
            await Kv.PutAsync(channel, $"d/{i % 5}", $"v{i}");
        }
        var defragmented = await channel.UnaryAsync(MaintenanceMethods.Defragment, new Pb.DefragmentRequest(), Options);
        Assert.AreEqual(cluster.Members[0].MemberId, defragmented.Header.MemberId);
        await Kv.DeleteAsync(channel, "d/0");
        var last = await Kv.PutAsync(channel, "d/after", "v");
        await Kv.WaitForRevisionAsync(channel, last);
        var before = await HashKvAsync(channel, 0);

        await cluster.StopAsync(0);
        await cluster.RestartAsync(0);
        await Kv.WaitForRevisionAsync(channel, last);
        var after = await HashKvAsync(channel, 0);
        Assert.AreEqual(last, after.HashRevision);
        Assert.AreEqual(before.Hash, after.Hash, cluster.Log);
    }

    private static Task<Pb.HashKVResponse> HashKvAsync(GrpcChannel channel, long revision) =>
        channel.UnaryAsync(MaintenanceMethods.HashKV, new Pb.HashKVRequest { Revision = revision }, Options);

    private static Task<Pb.MoveLeaderResponse> MoveLeaderAsync(GrpcChannel channel, ulong targetId) =>
        channel.UnaryAsync(MaintenanceMethods.MoveLeader, new Pb.MoveLeaderRequest { TargetID = targetId }, Options);
}
