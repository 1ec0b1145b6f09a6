using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>Watches on a follower of a 3-member in-process cluster: served from the follower's own applied state, as
/// etcd serves a watch from the local member, so they need no leader.</summary>
[TestClass]
public sealed class WatchClusterTests
{
    [TestMethod]
    public async Task WatchOnAFollower_SeesEveryWriteAsItApplies_AndReplaysWithoutAnyLeader()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));
        var leader = cluster.Members.Select((m, i) => (m, i)).Single(x => x.m.MemberId == status.Leader).i;
        var follower = (leader + 1) % 3;
        var other = (leader + 2) % 3;

        var start = await Kv.PutAsync(cluster.Channels[leader], "f/marker", "m") + 1;
        using var watch = new WatchClient(cluster.Channels[follower]);
        var created = await watch.CreateAsync("f/", startRevision: start, prefix: true);
        Assert.AreEqual(cluster.Members[follower].MemberId, created.Header.MemberId);

        for (var i = 0; i < 10; i++)
        {
            await Kv.PutAsync(cluster.Channels[leader], $"f/leader/{i}", "v");
            await Kv.PutAsync(cluster.Channels[follower], $"f/follower/{i}", "v");
        }

        var (events, responses) = await watch.EventsAsync(20);
        CollectionAssert.AreEqual(Enumerable.Range(0, 20).Select(i => start + i).ToList(), events.Select(e => e.Kv.ModRevision).ToList(), cluster.Log);
        Assert.IsTrue(responses.All(r => r.Header.MemberId == cluster.Members[follower].MemberId && r.Header.ClusterId == cluster.Members[follower].ClusterId));

        // The leader and the other follower go away: the lone follower has no leader, and still replays its history.
        await cluster.StopAsync(leader);
        await cluster.StopAsync(other);
        using var replay = new WatchClient(cluster.Channels[follower]);
        await replay.CreateAsync("f/", startRevision: start, prefix: true);
        var (replayed, _) = await replay.EventsAsync(20);
        CollectionAssert.AreEqual(events.Select(e => e.Kv.Key).ToList(), replayed.Select(e => e.Kv.Key).ToList());
        await replay.RequestProgressAsync();
        var progress = await replay.NextAsync();
        Assert.AreEqual(-1L, progress.WatchId);
        Assert.AreEqual(start + 19, progress.Header.Revision);

    }

    [TestMethod]
    public async Task WatchOnAFollower_ThatInstallsASnapshotFromTheLeader_MissesNothing()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, options => options with { SnapshotCount = 40 });
        var status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));
        var leader = cluster.Members.Select((m, i) => (m, i)).Single(x => x.m.MemberId == status.Leader).i;
        var follower = (leader + 1) % 3;
        var start = await Kv.PutAsync(cluster.Channels[leader], "s/marker", "m") + 1;

        await cluster.StopAsync(follower);
        var last = 0L;
        for (var i = 0; i < 300; i++)
        {
            last = await Kv.PutAsync(cluster.Channels[leader], $"s/{i:D3}", "v");
        }
        // Snapshots are taken on the leader's ticks, which a loaded machine delays: take one now, so the leader's log no
        // longer holds what the follower lacks and the follower can only catch up by a snapshot.
        var snapshotIndex = await cluster.Members[leader].Host.InvokeAsync(node => node.CompactLog().Index);
        Assert.IsTrue(snapshotIndex > 300, $"snapshot at {snapshotIndex}");
        await cluster.RestartAsync(follower);

        // Watching from before the gap while the follower catches up: its store is replaced by the leader's snapshot
        // (usually while the watcher already runs; the test cannot force it), and every revision must still arrive
        // once, in order.
        using var watch = new WatchClient(cluster.Channels[follower]);
        await watch.CreateAsync("s/", startRevision: start, prefix: true);
        var (events, _) = await watch.EventsAsync(300);
        CollectionAssert.AreEqual(Enumerable.Range(0, 300).Select(i => start + i).ToList(), events.Select(e => e.Kv.ModRevision).ToList());
        Assert.AreEqual(last, events[^1].Kv.ModRevision);
        // The member logs the install at the end of its loop turn, which may come after the events were served.
        for (var i = 0; i < 100 && !cluster.Log.Contains("installed a snapshot from the leader", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        StringAssert.Contains(cluster.Log, "installed a snapshot from the leader", "the follower caught up without a snapshot; the test did not exercise what it means to");
        var more = await Kv.PutAsync(cluster.Channels[leader], "s/after", "v");
        Assert.AreEqual(more, (await watch.NextAsync()).Events.Single().Kv.ModRevision);
    }
}
