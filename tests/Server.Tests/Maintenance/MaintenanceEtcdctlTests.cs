using System.Security.Cryptography;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>etcdctl's maintenance commands against CurpStore: snapshot save, defrag, endpoint hashkv, move-leader.</summary>
[TestClass]
public sealed class MaintenanceEtcdctlTests
{
    [TestMethod]
    public async Task SnapshotSave_WritesTheStreamedImageWithItsSha256_AndPrintsEtcdsLine()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var endpoint = Endpoint(cluster, 0);
        // Enough data for several 32 KiB messages.
        for (var i = 0; i < 100; i++)
        {
            await Kv.PutAsync(cluster.Channels[0], $"snap/{i:D3}", new string('x', 1000));
        }
        var folder = Directory.CreateTempSubdirectory("curpstore-snapshot").FullName;
        try
        {
            var file = Path.Combine(folder, "backup.db");
            var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["snapshot", "save", file]);
            Assert.AreEqual(0, exitCode, output);
            StringAssert.Contains(output, $"Snapshot saved at {file}");
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.IsGreaterThan(100_000, bytes.Length);
            CollectionAssert.AreEqual(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)), bytes[^32..]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task SnapshotStream_CountsDownRemainingBytes_AndEndsWithTheDigest()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        for (var i = 0; i < 80; i++)
        {
            await Kv.PutAsync(cluster.Channels[0], $"s/{i:D3}", new string('y', 1000));
        }
        using var call = cluster.Channels[0].ServerStreaming(MaintenanceMethods.Snapshot, new Pb.SnapshotRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(15)));
        var responses = new List<Pb.SnapshotResponse>();
        await foreach (var response in call.ResponseStream)
        {
            responses.Add(response);
        }
        Assert.IsGreaterThan(3, responses.Count);
        var data = responses[..^1].SelectMany(r => r.Blob.ToByteArray()).ToArray();
        var sent = 0L;
        foreach (var response in responses[..^1])
        {
            sent += response.Blob.Length;
            Assert.AreEqual((ulong)(data.Length - sent), response.RemainingBytes);
            Assert.IsLessThanOrEqualTo(32 * 1024, response.Blob.Length);
        }
        Assert.AreEqual(0, data.Length % 512, "etcdctl wants whole 512-byte blocks before the digest");
        Assert.AreEqual(0UL, responses[^1].RemainingBytes);
        CollectionAssert.AreEqual(SHA256.HashData(data), responses[^1].Blob.ToByteArray());
    }

    [TestMethod]
    public async Task DefragAndHashKv_AnswerAsEtcdctlExpects()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var endpoint = Endpoint(cluster, 0);
        await Kv.WaitForRevisionAsync(cluster.Channels[0], await Kv.PutAsync(cluster.Channels[0], "d/1", "v"));
        var before = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.HashKV, new Pb.HashKVRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));

        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["defrag"]);
        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, $"Finished defragmenting etcd member[{endpoint}]");

        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["endpoint", "hashkv"]);
        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, $"{endpoint}, {before.Hash}", "defragmenting must not change the hash");
        await Kv.PutAsync(cluster.Channels[0], "d/2", "v");
        Assert.AreEqual(0, (await Etcdctl.RunAsync(endpoint, ["put", "d/3", "v"])).ExitCode);
    }

    [TestMethod]
    public async Task AlarmListAndDisarm_ShowNothingWithoutAlarms_ThenListAndDisarmAnActivatedOne()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var endpoint = Endpoint(cluster, 0);
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["alarm", "list"]);
        Assert.AreEqual(0, exitCode, output);
        Assert.AreEqual("", output.Trim());
        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["alarm", "disarm"]);
        Assert.AreEqual(0, exitCode, output);
        Assert.AreEqual("", output.Trim());

        var member = cluster.Members[0].MemberId;
        var activate = new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Activate, MemberID = member, Alarm = Pb.AlarmType.Nospace };
        var activated = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Alarm, activate, new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));
        Assert.AreEqual(member, activated.Alarms.Single().MemberID);
        Assert.AreEqual(member, activated.Header.MemberId);
        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["alarm", "list"]);
        Assert.AreEqual((0, $"memberID:{member} alarm:NOSPACE"), (exitCode, output.Trim()));
        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["put", "k", "v"]);
        Assert.AreEqual(1, exitCode, output);
        StringAssert.Contains(output, "Error: etcdserver: mvcc: database space exceeded");
        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["alarm", "disarm"]);
        Assert.AreEqual((0, $"memberID:{member} alarm:NOSPACE"), (exitCode, output.Trim()));
        (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["put", "k", "v"]);
        Assert.AreEqual((0, "OK"), (exitCode, output.Trim()));
    }

    [TestMethod]
    public async Task MoveLeader_ThroughEtcdctl_TransfersToTheTarget()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var leader = await cluster.LeaderIndexAsync();
        var target = (leader + 2) % 3;
        var endpoints = string.Join(',', Enumerable.Range(0, 3).Select(i => Endpoint(cluster, i)));

        var (exitCode, output) = await Etcdctl.RunAsync(endpoints, ["move-leader", cluster.Members[target].MemberId.ToString("x")]);
        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, $"Leadership transferred from {cluster.Members[leader].MemberId:x} to {cluster.Members[target].MemberId:x}");
        var after = await cluster.Channels[leader].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));
        Assert.AreEqual(cluster.Members[target].MemberId, after.Leader);
    }

    private static string Endpoint(InProcessMembers cluster, int index) => cluster.Members[index].ClientUrls[0].ToString().TrimEnd('/');
}
