using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using EtcdSnapshot = CurpStore.Store.EtcdSnapshot;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>etcd's periodic corruption check (<c>--experimental-corrupt-check-time</c>) on three in-process members:
/// one follower's store is altered directly (not through the log); the leader's check finds its HashKV differs, raises
/// CORRUPT for that member through the log, and every member then refuses writes with etcd's error.</summary>
[TestClass]
public sealed class CorruptionCheckTests
{
    private static CallOptions Options => new(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));

    [TestMethod]
    public async Task AFollowerWhoseStoreWasAlteredDirectly_GetsTheCorruptAlarm_AndEveryMemberRefusesWrites()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { CorruptCheckInterval = TimeSpan.FromMilliseconds(200) });
        await WriteTwoKeysEverywhereAsync(cluster);
        var leader = await cluster.LeaderIndexAsync();
        var victim = (leader + 1) % 3;

        // Several checks run on unaltered stores: none may raise an alarm.
        await WaitForLogAsync(cluster, "corruption check passed", count: 3);
        Assert.IsEmpty((await AlarmsAsync(cluster.Channels[leader])).Alarms, cluster.Log);

        await TamperAsync(cluster.Members[victim], "b");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Pb.AlarmResponse alarms;
        while ((alarms = await AlarmsAsync(cluster.Channels[leader])).Alarms.Count == 0)
        {
            Assert.IsLessThan(deadline, DateTime.UtcNow, $"no alarm within 30 s\n{cluster.Log}");
            await Task.Delay(100);
        }
        Assert.AreEqual((cluster.Members[victim].MemberId, Pb.AlarmType.Corrupt), (alarms.Alarms.Single().MemberID, alarms.Alarms.Single().Alarm));

        for (var i = 0; i < 3; i++)
        {
            var put = await Assert.ThrowsExactlyAsync<RpcException>(() => Kv.PutAsync(cluster.Channels[i], "c", "1"));
            Assert.AreEqual((GrpcStatusCode.DataLoss, "etcdserver: corrupt cluster"), (put.StatusCode, put.Detail), $"member {i}");
            var delete = await Assert.ThrowsExactlyAsync<RpcException>(() => Kv.DeleteAsync(cluster.Channels[i], "a"));
            Assert.AreEqual(GrpcStatusCode.DataLoss, delete.StatusCode);
            var read = await cluster.Channels[i].UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("b"), Serializable = true }, Options);
            Assert.AreEqual(i == victim ? "tampered" : "1", read.Kvs.Single().Value.ToStringUtf8(), $"member {i} still serves reads");
            var status = await cluster.Channels[i].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
            CollectionAssert.Contains(status.Errors, $"memberID:{cluster.Members[victim].MemberId} alarm:CORRUPT ");
        }
    }

    [TestMethod]
    public async Task AMemberRestartedWithTheInitialCheck_StartsWhenItsPeersAgree_AndRefusesToStartWhenOneHashesItsRevisionOtherwise()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { InitialCorruptCheck = true });
        var revision = await WriteTwoKeysEverywhereAsync(cluster);
        var leader = await cluster.LeaderIndexAsync();
        var restarted = (leader + 1) % 3;
        Assert.IsFalse(cluster.Log.Contains("initial corruption check", StringComparison.Ordinal), "a new member has nothing to check");

        await cluster.StopAsync(restarted);
        await cluster.RestartAsync(restarted);
        await WaitForLogAsync(cluster, "initial corruption checking passed; no corruption (2 of 2 peers compared)", count: 1);
        await Kv.WaitForRevisionAsync(cluster.Channels[restarted], revision);

        // A peer's store altered directly: the restarting member sees a different hash of the same revision.
        await TamperAsync(cluster.Members[(leader + 2) % 3], "b");
        await cluster.StopAsync(restarted);
        var refused = await Assert.ThrowsExactlyAsync<InvalidDataException>(() => cluster.RestartAsync(restarted));
        Assert.AreEqual($"{cluster.Members[restarted].MemberId:x} found data inconsistency with peers", refused.Message);
    }

    /// <summary>Puts a=1 and b=1 and waits until every member applied them; returns b's revision.</summary>
    private static async Task<long> WriteTwoKeysEverywhereAsync(InProcessMembers cluster)
    {
        await Kv.PutAsync(cluster.Channels[0], "a", "1");
        var revision = await Kv.PutAsync(cluster.Channels[0], "b", "1");
        foreach (var channel in cluster.Channels)
        {
            await Kv.WaitForRevisionAsync(channel, revision);
        }
        return revision;
    }

    /// <summary>Changes <paramref name="key"/>'s value in the member's store directly, not through the log.</summary>
    private static Task TamperAsync(ServerProcess member, string key) => member.Host.InvokeAsync(_ =>
    {
        var image = member.Machine.CaptureImage();
        member.Machine.RestoreSnapshot(new EtcdSnapshot(
            [.. image.Records.Select(r => Encoding.UTF8.GetString(r.Kv.Key) == key ? r with { Kv = r.Kv with { Value = "tampered"u8.ToArray() } } : r)],
            image.Meta));
        return 0;
    });

    private static Task<Pb.AlarmResponse> AlarmsAsync(GrpcChannel channel) =>
        channel.UnaryAsync(MaintenanceMethods.Alarm, new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Get }, Options);

    private static async Task WaitForLogAsync(InProcessMembers cluster, string text, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (cluster.Log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal)) < count)
        {
            Assert.IsLessThan(deadline, DateTime.UtcNow, $"fewer than {count} lines \"{text}\" within 30 s\n{cluster.Log}");
            await Task.Delay(100);
        }
    }
}
