using System.Text;
using System.Text.RegularExpressions;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using ElectionPb = CurpStore.Rpc.Etcd.V3ElectionPb;
using LockPb = CurpStore.Rpc.Etcd.V3LockPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;

namespace CurpStore.Server.Tests.LockElection;

/// <summary>
/// Debian's <c>etcdctl lock</c> and <c>etcdctl elect</c> (3.4: they run etcd's concurrency recipes in the client, on
/// KV, Lease and Watch) against a real CurpStore server process and against Debian's real etcd: the same script must
/// print the same transcript (lease ids in keys are replaced by L1, L2, ... in order of appearance).
/// </summary>
[TestClass]
public sealed partial class LockElectionEtcdctlTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);
    private static ServerProcessHarness? harness;
    private static string curpStoreEndpoint = "";
    private static string etcdEndpoint = "";

    [ClassInitialize]
    public static async Task StartServers(TestContext context)
    {
        harness = new ServerProcessHarness();
        curpStoreEndpoint = await StartAsync(harness, etcd: false);
        etcdEndpoint = await StartAsync(harness, etcd: true);
    }

    [ClassCleanup]
    public static void StopServers() => harness?.Dispose();

    [TestMethod]
    public Task LockAndElect_PrintWhatEtcdPrints() => CompareWithEtcdAsync(endpoint => RunScriptAsync([endpoint]), LockedLine);

    /// <summary>The Lock and Election services called directly (etcdctl 3.4 does not use them): the same calls answer
    /// the same keys, revisions relations, status codes and messages from CurpStore as from etcd.</summary>
    [TestMethod]
    public Task LockAndElectionServices_AnswerAsEtcd() => CompareWithEtcdAsync(RunServiceScriptAsync, "leader on an empty name: Unknown election: no leader\n");

    /// <summary>Runs <paramref name="script"/> against CurpStore and etcd; etcd's transcript must hold
    /// <paramref name="etcdLine"/> (the script does what it means to) and CurpStore's must be the same.</summary>
    private static async Task CompareWithEtcdAsync(Func<string, Task<string>> script, string etcdLine)
    {
        var curpStore = await script(curpStoreEndpoint);
        var etcd = await script(etcdEndpoint);
        StringAssert.Contains(etcd, etcdLine, "etcd itself did not answer what the script expects");
        Assert.AreEqual(etcd, curpStore, $"CurpStore answered something else than etcd\n{harness!.Log("curpstore")}");
    }

    private static async Task<string> RunServiceScriptAsync(string endpoint)
    {
        using var channel = new GrpcChannel(new Uri(endpoint));
        var options = new CallOptions(Deadline: DateTime.UtcNow + WaitTimeout);
        var transcript = new StringBuilder();
        async Task Step<T>(string name, Func<Task<T>> call, Func<T, string> show)
        {
            string answer;
            try
            {
                answer = show(await call());
            }
            catch (RpcException e)
            {
                answer = $"{e.StatusCode} {e.Detail}";
            }
            transcript.Append($"{name}: {answer}\n");
        }
        var lease = (await channel.UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = 60 }, options)).ID;
        var name = ByteString.CopyFromUtf8("svc");
        await Step("lock with an unknown lease", () => channel.UnaryAsync(LockMethods.Lock, new LockPb.LockRequest { Name = name, Lease = 0x7777_1234 }, options), r => Text(r.Key));
        await Step("unlock without a key", () => channel.UnaryAsync(LockMethods.Unlock, new LockPb.UnlockRequest(), options), r => "ok");
        await Step("lock", () => channel.UnaryAsync(LockMethods.Lock, new LockPb.LockRequest { Name = name, Lease = lease }, options), r => Text(r.Key));
        await Step("lock again", () => channel.UnaryAsync(LockMethods.Lock, new LockPb.LockRequest { Name = name, Lease = lease }, options), r => Text(r.Key));
        await Step("unlock", () => channel.UnaryAsync(LockMethods.Unlock, new LockPb.UnlockRequest { Key = ByteString.CopyFromUtf8($"svc/{lease:x}") }, options), r => "ok");
        await Step("unlock again", () => channel.UnaryAsync(LockMethods.Unlock, new LockPb.UnlockRequest { Key = ByteString.CopyFromUtf8($"svc/{lease:x}") }, options), r => "ok");
        await Step("lock without a lease", () => channel.UnaryAsync(LockMethods.Lock, new LockPb.LockRequest { Name = ByteString.CopyFromUtf8("svc-nolease") }, options), r => Text(r.Key).StartsWith("svc-nolease/", StringComparison.Ordinal) ? "svc-nolease/ID" : Text(r.Key));
        await Step("leader on an empty name", () => channel.UnaryAsync(ElectionMethods.Leader, new ElectionPb.LeaderRequest { Name = name }, options), r => Text(r.Kv.Value));
        await Step("campaign with an unknown lease", () => channel.UnaryAsync(ElectionMethods.Campaign, new ElectionPb.CampaignRequest { Name = name, Lease = 0x7777_1234, Value = ByteString.CopyFromUtf8("x") }, options), r => Text(r.Leader.Key));
        ElectionPb.LeaderKey? leader = null;
        await Step("campaign", () => channel.UnaryAsync(ElectionMethods.Campaign, new ElectionPb.CampaignRequest { Name = name, Lease = lease, Value = ByteString.CopyFromUtf8("v1") }, options), r =>
        {
            leader = r.Leader;
            return $"{Text(r.Leader.Name)} {Text(r.Leader.Key)} lease {(r.Leader.Lease == lease ? "ours" : r.Leader.Lease)} rev is header's: {r.Leader.Rev == r.Header.Revision}";
        });
        await Step("proclaim", () => channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = leader, Value = ByteString.CopyFromUtf8("v2") }, options), r => "ok");
        await Step("leader", () => channel.UnaryAsync(ElectionMethods.Leader, new ElectionPb.LeaderRequest { Name = name }, options), r => $"{Text(r.Kv.Key)}={Text(r.Kv.Value)} version {r.Kv.Version}");
        var stale = leader!.Clone();
        stale.Rev++;
        await Step("proclaim with a stale key", () => channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = stale, Value = ByteString.CopyFromUtf8("x") }, options), r => "ok");
        await Step("proclaim without a leader", () => channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Value = ByteString.CopyFromUtf8("x") }, options), r => "ok");
        await Step("resign with a stale key", () => channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest { Leader = stale }, options), r => "ok");
        await Step("resign", () => channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest { Leader = leader }, options), r => "ok");
        await Step("leader after resign", () => channel.UnaryAsync(ElectionMethods.Leader, new ElectionPb.LeaderRequest { Name = name }, options), r => Text(r.Kv.Value));
        return NormalizeLeases(transcript.ToString());
    }

    private static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    private static async Task<string> StartAsync(ServerProcessHarness harness, bool etcd)
    {
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"http://127.0.0.1:{clientPort}";
        string[] flags =
        [
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"{(etcd ? "etcd" : "default")}=http://127.0.0.1:{peerPort}",
        ];
        if (etcd)
        {
            harness.StartEtcd("etcd", flags);
        }
        else
        {
            harness.Start("curpstore", flags);
        }
        using var channel = new GrpcChannel(new Uri(endpoint));
        await ServerProcessHarness.WaitForLeaderAsync(channel, WaitTimeout);
        return endpoint;
    }

    /// <summary>A line etcd's transcript of <see cref="RunScriptAsync"/> holds: the script did what it means to.</summary>
    internal const string LockedLine = "lock: exit 0: held lk/L1\n";

    /// <summary>A lock around a command; a holder killed with SIGKILL whose 5 s session lease then expires, with a
    /// second locker waiting for it; a leader, an observer (<c>elect -l</c>) and a second candidate that becomes leader
    /// when the first resigns on SIGTERM. Contenders take turns over <paramref name="endpoints"/> (members of one
    /// cluster), so that on a cluster they meet through replication.</summary>
    internal static async Task<string> RunScriptAsync(IReadOnlyList<string> endpoints)
    {
        var turn = 0;
        string Next() => endpoints[turn++ % endpoints.Count];
        var endpoint = endpoints[0];
        var transcript = new StringBuilder();
        var (exitCode, output) = await Etcdctl.RunAsync(Next(), ["lock", "lk", "--", "sh", "-c", "echo held $ETCD_LOCK_KEY"]);
        transcript.Append($"lock: exit {exitCode}: {output}");

        using (var holder = EtcdctlWatch.StartCommand(Next(), ["lock", "--ttl=5", "contended"]))
        {
            await WaitForLinesAsync(holder, 1);
            transcript.Append($"holder: {holder.Output}");
            using var waiter = EtcdctlWatch.StartCommand(Next(), ["lock", "contended", "--", "echo", "waiter got it"]);
            await WaitForKeysAsync(endpoint, "contended/", 2);
            transcript.Append($"waiter while held: [{waiter.Output}]\n");
            holder.Dispose(); // SIGKILL: the holder's lease is left to expire
            var waiterExit = await waiter.WaitForExitAsync(WaitTimeout);
            transcript.Append($"waiter: exit {waiterExit}: {waiter.Output}");
        }

        using (var first = EtcdctlWatch.StartCommand(Next(), ["elect", "el", "v1"]))
        using (var observer = EtcdctlWatch.StartCommand(Next(), ["elect", "-l", "el"]))
        {
            await WaitForLinesAsync(first, 2);
            transcript.Append($"first: {first.Output}");
            await WaitForLinesAsync(observer, 2);
            using var second = EtcdctlWatch.StartCommand(Next(), ["elect", "el", "v2"]);
            await WaitForKeysAsync(endpoint, "el/", 2);
            transcript.Append($"second while first leads: [{second.Output}]\n");
            await first.TerminateAsync(WaitTimeout);
            await WaitForLinesAsync(second, 2);
            transcript.Append($"second: {second.Output}");
            await WaitForLinesAsync(observer, 4);
            transcript.Append($"observer: {observer.Output}");
            await second.TerminateAsync(WaitTimeout);
        }
        await WaitForKeysAsync(endpoint, "el/", 0);
        return NormalizeLeases(transcript.ToString());
    }

    private static async Task WaitForLinesAsync(EtcdctlWatch command, int count)
    {
        var deadline = DateTime.UtcNow + WaitTimeout;
        while (command.Lines.Count < count)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"etcdctl printed {command.Lines.Count} lines, not {count}:\n{command.Output}{command.Errors}");
            await Task.Delay(20);
        }
    }

    private static async Task WaitForKeysAsync(string endpoint, string prefix, int count)
    {
        var deadline = DateTime.UtcNow + WaitTimeout;
        while (true)
        {
            var (_, keys) = await Etcdctl.RunAsync(endpoint, ["get", "--prefix", "--keys-only", prefix]);
            var found = keys.Split('\n').Count(line => line.StartsWith(prefix, StringComparison.Ordinal));
            if (found == count)
            {
                return;
            }
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{prefix} never had {count} keys: {keys}");
            await Task.Delay(50);
        }
    }

    /// <summary>Replaces the hex lease id after each <c>name/</c> by L1, L2, ... in order of first appearance.</summary>
    private static string NormalizeLeases(string transcript)
    {
        var names = new Dictionary<string, string>();
        return LeaseKeyPattern().Replace(transcript, m =>
        {
            var id = m.Groups[2].Value;
            if (!names.TryGetValue(id, out var name))
            {
                name = $"L{names.Count + 1}";
                names[id] = name;
            }
            return $"{m.Groups[1].Value}/{name}";
        });
    }

    [GeneratedRegex(@"\b(lk|contended|el|svc)/([0-9a-f]+)\b")]
    private static partial Regex LeaseKeyPattern();
}
