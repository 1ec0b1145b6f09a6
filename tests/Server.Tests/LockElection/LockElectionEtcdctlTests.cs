using System.Text;
using System.Text.RegularExpressions;
using CurpStore.Rpc;
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

    [TestMethod]
    public async Task LockAndElect_PrintWhatEtcdPrints()
    {
        using var harness = new ServerProcessHarness();
        var curpStore = await RunScriptAsync(await StartAsync(harness, etcd: false));
        var etcd = await RunScriptAsync(await StartAsync(harness, etcd: true));
        StringAssert.Contains(etcd, "lock: exit 0: held lk/L1\n", "etcd itself did not print what the script expects");
        Assert.AreEqual(etcd, curpStore, $"etcdctl printed something else against CurpStore than against etcd\n{harness.Log("curpstore")}");
    }

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

    /// <summary>A lock around a command; a holder killed with SIGKILL whose 5 s session lease then expires, with a
    /// second locker waiting for it; a leader, an observer (<c>elect -l</c>) and a second candidate that becomes leader
    /// when the first resigns on SIGTERM.</summary>
    private static async Task<string> RunScriptAsync(string endpoint)
    {
        var transcript = new StringBuilder();
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["lock", "lk", "--", "sh", "-c", "echo held $ETCD_LOCK_KEY"]);
        transcript.Append($"lock: exit {exitCode}: {output}");

        using (var holder = EtcdctlWatch.StartCommand(endpoint, ["lock", "--ttl=5", "contended"]))
        {
            await WaitForLinesAsync(holder, 1);
            transcript.Append($"holder: {holder.Output}");
            using var waiter = EtcdctlWatch.StartCommand(endpoint, ["lock", "contended", "--", "echo", "waiter got it"]);
            await WaitForKeysAsync(endpoint, "contended/", 2);
            transcript.Append($"waiter while held: [{waiter.Output}]\n");
            holder.Dispose(); // SIGKILL: the holder's lease is left to expire
            var waiterExit = await waiter.WaitForExitAsync(WaitTimeout);
            transcript.Append($"waiter: exit {waiterExit}: {waiter.Output}");
        }

        using (var first = EtcdctlWatch.StartCommand(endpoint, ["elect", "el", "v1"]))
        using (var observer = EtcdctlWatch.StartCommand(endpoint, ["elect", "-l", "el"]))
        {
            await WaitForLinesAsync(first, 2);
            transcript.Append($"first: {first.Output}");
            await WaitForLinesAsync(observer, 2);
            using var second = EtcdctlWatch.StartCommand(endpoint, ["elect", "el", "v2"]);
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

    [GeneratedRegex(@"\b(lk|contended|el)/([0-9a-f]+)\b")]
    private static partial Regex LeaseKeyPattern();
}
