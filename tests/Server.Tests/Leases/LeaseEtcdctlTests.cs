using System.Text.RegularExpressions;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Processes;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Leases;

/// <summary>etcd's Lease service on a real single-member server process, driven by Debian's <c>etcdctl</c>.</summary>
[TestClass]
public sealed partial class LeaseEtcdctlTests
{
    private static ServerProcessHarness? harness;
    private static string endpoint = "";

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        endpoint = $"http://127.0.0.1:{clientPort}";
        harness.Start("member",
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"default=http://127.0.0.1:{peerPort}");
        using var channel = new GrpcChannel(new Uri(endpoint));
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
    }

    [ClassCleanup]
    public static void StopServer() => harness?.Dispose();

    [TestMethod]
    public async Task GrantAttachListKeepAliveRevoke_BehavesAsEtcd()
    {
        var id = await GrantAsync(60);

        await EtcdctlAsync("put", $"--lease={id}", "lease/k1", "v1");
        var ttl = await EtcdctlAsync("lease", "timetolive", id, "--keys");
        StringAssert.Contains(ttl, $"lease {id} granted with TTL(60s)");
        StringAssert.Contains(ttl, "attached keys([lease/k1])");
        var remaining = int.Parse(RemainingPattern().Match(ttl).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(remaining is > 50 and <= 60, $"remaining TTL {remaining}: {ttl}");

        var list = await EtcdctlAsync("lease", "list");
        StringAssert.Contains(list, id);

        var kept = await EtcdctlAsync("lease", "keep-alive", "--once", id);
        StringAssert.Contains(kept, $"lease {id} keepalived with TTL(60)");

        var revoked = await EtcdctlAsync("lease", "revoke", id);
        StringAssert.Contains(revoked, $"lease {id} revoked");
        Assert.AreEqual("", (await EtcdctlAsync("get", "lease/k1")).Trim(), "the revoked lease's key is still there");
        Assert.IsFalse((await EtcdctlAsync("lease", "list")).Contains(id, StringComparison.Ordinal), "the revoked lease is still listed");
        StringAssert.Contains(await EtcdctlAsync("lease", "timetolive", id), "already expired");
    }

    [TestMethod]
    public async Task ShortLease_ExpiresByItself_AndItsKeyIsDeleted()
    {
        var id = await GrantAsync(2);
        await EtcdctlAsync("put", $"--lease={id}", "lease/short", "v");
        Assert.AreEqual("lease/short\nv", (await EtcdctlAsync("get", "lease/short")).Trim(), "the key was not written");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var value = "";
        while (DateTime.UtcNow < deadline)
        {
            value = (await EtcdctlAsync("get", "lease/short")).Trim();
            if (value.Length == 0)
            {
                break;
            }
            await Task.Delay(250);
        }
        Assert.AreEqual("", value, $"the key of an expired 2 s lease is still there after 15 s\n{harness!.Log("member")}");
        StringAssert.Contains(await EtcdctlAsync("lease", "timetolive", id), "already expired");
        Assert.IsFalse((await EtcdctlAsync("lease", "list")).Contains(id, StringComparison.Ordinal), "the expired lease is still listed");
    }

    [TestMethod]
    public async Task UnknownLease_RevokeFailsWithNotFound_KeepAliveAnswersTtlZero_PutIsRefused()
    {
        const string unknown = "7ffffffffffff123";
        var (revokeCode, revokeOutput) = await RunEtcdctlAsync("lease", "revoke", unknown);
        Assert.AreNotEqual(0, revokeCode, revokeOutput);
        StringAssert.Contains(revokeOutput, "etcdserver: requested lease not found");

        // The server answers TTL 0 (see the stream test below); etcd's client turns that into "lease not found".
        var (keepAliveCode, keepAliveOutput) = await RunEtcdctlAsync("lease", "keep-alive", "--once", unknown);
        Assert.AreNotEqual(0, keepAliveCode, keepAliveOutput);
        StringAssert.Contains(keepAliveOutput, "requested lease not found");

        var (putCode, putOutput) = await RunEtcdctlAsync("put", $"--lease={unknown}", "lease/orphan", "v");
        Assert.AreNotEqual(0, putCode, putOutput);
        StringAssert.Contains(putOutput, "etcdserver: requested lease not found");
    }

    [TestMethod]
    public async Task KeepAliveStream_AnswersEachRequest_WithTheFullTtlOrZeroForAnUnknownLease()
    {
        using var channel = new GrpcChannel(new Uri(endpoint));
        var options = new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));
        var granted = await channel.UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = 30 }, options);
        Assert.AreNotEqual(0L, granted.ID);
        Assert.AreEqual(30L, granted.TTL);
        const long unknown = 0x7ffffffffffff321;

        using var call = channel.DuplexStreaming(LeaseMethods.LeaseKeepAlive, options);
        var answers = new List<(long Id, long Ttl)>();
        foreach (var id in new[] { granted.ID, unknown, granted.ID })
        {
            await call.RequestStream.WriteAsync(new Pb.LeaseKeepAliveRequest { ID = id });
            Assert.IsTrue(await call.ResponseStream.MoveNext(), "the keep-alive stream ended early");
            answers.Add((call.ResponseStream.Current.ID, call.ResponseStream.Current.TTL));
        }
        await call.RequestStream.CompleteAsync();
        CollectionAssert.AreEqual(new[] { (granted.ID, 30L), (unknown, 0L), (granted.ID, 30L) }, answers);

        var ttl = await channel.UnaryAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = unknown }, options);
        Assert.AreEqual(-1L, ttl.TTL);
        await channel.UnaryAsync(LeaseMethods.LeaseRevoke, new Pb.LeaseRevokeRequest { ID = granted.ID }, options);
    }

    [TestMethod]
    public async Task GrantWithTooLargeTtl_FailsAsEtcd()
    {
        var (code, output) = await RunEtcdctlAsync("lease", "grant", "9000000001");
        Assert.AreNotEqual(0, code, output);
        StringAssert.Contains(output, "etcdserver: too large lease TTL");
    }

    private static async Task<string> GrantAsync(long ttl)
    {
        var granted = await EtcdctlAsync("lease", "grant", ttl.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var match = GrantedPattern().Match(granted);
        Assert.IsTrue(match.Success, $"unexpected grant output: {granted}");
        return match.Groups[1].Value;
    }

    private static async Task<string> EtcdctlAsync(params string[] args)
    {
        var (code, output) = await RunEtcdctlAsync(args);
        Assert.AreEqual(0, code, $"etcdctl {string.Join(' ', args)} failed: {output}\n{harness!.Log("member")}");
        return output;
    }

    private static Task<(int ExitCode, string Output)> RunEtcdctlAsync(params string[] args) => Etcdctl.RunAsync(endpoint, args);

    [GeneratedRegex(@"lease ([0-9a-f]+) granted with TTL\(\d+s\)")]
    private static partial Regex GrantedPattern();

    [GeneratedRegex(@"remaining\((-?\d+)s\)")]
    private static partial Regex RemainingPattern();
}
