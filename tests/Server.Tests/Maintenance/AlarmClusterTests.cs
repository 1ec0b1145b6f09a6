using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>NOSPACE on three in-process members: the quota is checked by the member serving the write, the alarm goes
/// through the log, so every member refuses writes, and it survives a restart until it is disarmed.</summary>
[TestClass]
public sealed class AlarmClusterTests
{
    private const long QuotaBytes = 40_000;

    private static CallOptions Options => new(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));

    [TestMethod]
    public async Task QuotaExceeded_RaisesNoSpaceThroughTheLog_EveryMemberRefusesWrites_UntilDisarmed()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { QuotaBackendBytes = QuotaBytes });
        var value = new string('v', 2000);
        var puts = 0;
        RpcException? refused = null;
        while (refused is null)
        {
            try
            {
                await Kv.PutAsync(cluster.Channels[0], $"fill/{puts:D3}", value);
                puts++;
                Assert.IsLessThan(100, puts, "the quota never refused a put");
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.AreEqual((GrpcStatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"), (refused.StatusCode, refused.Status.Detail));
        // Each put stores about 2,030 bytes and costs 2,264 (etcd's 256 bytes of overhead): the quota refused the one
        // that would have reached it. 19 fit; a few more when puts answered on the fast path were not applied yet on
        // the serving member (21 seen once in CI): the check is made when a write is accepted, against what the member
        // has applied, as etcd's request-time check lets writes in flight through.
        Assert.IsInRange(19, 23, puts);
        // The refusal answers at once; the alarm is raised through the log (as etcd raises it in the background), so
        // Status shows it once member 0 has applied it.
        var status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
        for (var attempt = 0; attempt < 100 && status.Errors.Count == 0; attempt++)
        {
            await Task.Delay(100);
            status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
        }
        // Status shows the engine's files (a FASTER index far above this quota); the quota counts the records, which
        // the number of puts that fit checks. Nothing was compacted yet: all of the files count as in use.
        Assert.AreEqual(status.DbSize, status.DbSizeInUse);
        CollectionAssert.Contains(status.Errors, $"memberID:{cluster.Members[0].MemberId} alarm:NOSPACE ");
        Assert.AreEqual(0, status.Errors.Count(e => !e.Contains("alarm:NOSPACE", StringComparison.Ordinal)), string.Join(", ", status.Errors));

        var raisedBy = cluster.Members[0].MemberId;
        for (var i = 0; i < 3; i++)
        {
            var alarms = await cluster.Channels[i].UnaryAsync(MaintenanceMethods.Alarm, new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Get }, Options);
            // Member 0 raised it; a member whose own size is within a put of the quota may raise its own as well (as in
            // etcd, each member checks the writes it serves).
            Assert.IsTrue(alarms.Alarms.All(a => a.Alarm == Pb.AlarmType.Nospace) && alarms.Alarms.Any(a => a.MemberID == raisedBy), $"member {i}: {alarms}");
            var put = await Assert.ThrowsExactlyAsync<RpcException>(() => Kv.PutAsync(cluster.Channels[i], "small", "1"));
            Assert.AreEqual(GrpcStatusCode.ResourceExhausted, put.StatusCode, $"member {i}: a small put is refused by the alarm, not the quota");
            var grant = await Assert.ThrowsExactlyAsync<RpcException>(() => cluster.Channels[i].UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = 10 }, Options));
            Assert.AreEqual("etcdserver: mvcc: database space exceeded", grant.Status.Detail);
        }

        // The alarm is applied state: a restarted member still refuses.
        await cluster.StopAsync(2);
        await cluster.RestartAsync(2);
        await Kv.WaitForRevisionAsync(cluster.Channels[2], puts + 1);
        var afterRestart = await Assert.ThrowsExactlyAsync<RpcException>(() => Kv.PutAsync(cluster.Channels[2], "small", "1"));
        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, afterRestart.StatusCode);

        // Reads and deletes are served; compaction and defragment free the space; disarm lets writes back.
        var read = await cluster.Channels[1].UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("fill/"), RangeEnd = ByteString.CopyFromUtf8("fill0"), CountOnly = true }, Options);
        Assert.AreEqual(puts, read.Count);
        var deleted = await cluster.Channels[1].UnaryAsync(KVMethods.DeleteRange, new Pb.DeleteRangeRequest { Key = ByteString.CopyFromUtf8("fill/"), RangeEnd = ByteString.CopyFromUtf8("fill0") }, Options);
        Assert.AreEqual(puts, deleted.Deleted);
        await Kv.CompactAsync(cluster.Channels[1], deleted.Header.Revision);
        for (var i = 0; i < 3; i++)
        {
            await WaitForCompactionAsync(cluster.Channels[i], freedBytes: puts * 2000);
            await cluster.Channels[i].UnaryAsync(MaintenanceMethods.Defragment, new Pb.DefragmentRequest(), Options);
            var defragmented = await cluster.Channels[i].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
            Assert.AreEqual(defragmented.DbSize, defragmented.DbSizeInUse, $"member {i}: a defragment gives the freed space back");
        }
        var refusedAfterDefrag = await Assert.ThrowsExactlyAsync<RpcException>(() => Kv.PutAsync(cluster.Channels[0], "small", "1"));
        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, refusedAfterDefrag.StatusCode, "the alarm stays until it is disarmed");
        var raised = await cluster.Channels[2].UnaryAsync(MaintenanceMethods.Alarm, new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Get }, Options);
        foreach (var alarm in raised.Alarms)
        {
            var disarmed = await cluster.Channels[2].UnaryAsync(MaintenanceMethods.Alarm, new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Deactivate, MemberID = alarm.MemberID, Alarm = alarm.Alarm }, Options);
            Assert.AreEqual(alarm.MemberID, disarmed.Alarms.Single().MemberID);
        }
        for (var i = 0; i < 3; i++)
        {
            await Kv.PutAsync(cluster.Channels[i], $"after/{i}", value);
        }
        status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
        Assert.IsEmpty(status.Errors);
    }

    /// <summary>Compaction does not move the revision: wait until the member's Status shows at least
    /// <paramref name="freedBytes"/> freed (dbSize less dbSizeInUse), which stays so until a defragment.</summary>
    private static async Task WaitForCompactionAsync(GrpcChannel channel, long freedBytes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await channel.UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options) is var status && status.DbSize - status.DbSizeInUse < freedBytes)
        {
            Assert.IsLessThan(deadline, DateTime.UtcNow, $"the compaction was not applied within 30 s: {status}");
            await Task.Delay(50);
        }
    }
}
