using System.Globalization;
using System.Text.Json;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Compat;

/// <summary>
/// A 3-member CurpStore cluster and a 3-member cluster of Debian's etcd 3.4, real processes on free loopback ports,
/// started side by side for one test class. Members have the same names (m1, m2, m3) on both sides, so that etcdctl
/// prints the same names; everything else that legitimately differs is left to <see cref="EtcdctlScript"/>.
/// </summary>
internal sealed class CompatClusters : IDisposable
{
    public const int Size = 3;

    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(60);

    private readonly ServerProcessHarness harness = new();

    private CompatClusters()
    {
    }

    /// <summary>Client URLs of the CurpStore members, m1 first.</summary>
    public IReadOnlyList<string> CurpStore { get; private set; } = [];

    /// <summary>Client URLs of the etcd members, m1 first.</summary>
    public IReadOnlyList<string> Etcd { get; private set; } = [];

    /// <summary>The data folder of both clusters (temporary; deleted with them).</summary>
    public string Root => harness.Root;

    public static async Task<CompatClusters> StartAsync()
    {
        var clusters = new CompatClusters();
        try
        {
            clusters.CurpStore = clusters.StartCluster(etcd: false);
            clusters.Etcd = clusters.StartCluster(etcd: true);
            foreach (var endpoint in clusters.CurpStore.Concat(clusters.Etcd))
            {
                using var channel = new GrpcChannel(new Uri(endpoint));
                await ServerProcessHarness.WaitForLeaderAsync(channel, WaitTimeout);
            }
            return clusters;
        }
        catch
        {
            clusters.Dispose();
            throw;
        }
    }

    /// <summary>Makes m1 the leader on both sides where it is not (etcdctl move-leader, retried while a cluster
    /// settles), so that the same members lead and follow in both and the scripts' commands on m2 and m3 are the
    /// followers' fast path. Each test calls it: an election on a loaded machine may have moved leadership since.</summary>
    public async Task MoveLeadershipToFirstMemberAsync()
    {
        foreach (var endpoints in new[] { CurpStore, Etcd })
        {
            var (exitCode, output) = await Etcdctl.RunAsync(endpoints[0], ["endpoint", "status", "-w", "json"]);
            Assert.AreEqual(0, exitCode, output);
            using var json = JsonDocument.Parse(output);
            var status = json.RootElement[0].GetProperty("Status");
            var first = status.GetProperty("header").GetProperty("member_id").GetUInt64();
            if (status.GetProperty("leader").GetUInt64() == first)
            {
                continue;
            }
            var deadline = DateTime.UtcNow + WaitTimeout;
            while (true)
            {
                (exitCode, output) = await Etcdctl.RunAsync(string.Join(',', endpoints), ["move-leader", first.ToString("x", CultureInfo.InvariantCulture)]);
                if (exitCode == 0)
                {
                    break;
                }
                Assert.IsTrue(DateTime.UtcNow < deadline, $"leadership did not move to m1 within {WaitTimeout}: {output}\n{CurpStoreLogs()}");
                await Task.Delay(500);
            }
        }
    }

    /// <summary>What the CurpStore members logged (for failure messages).</summary>
    public string CurpStoreLogs() => string.Join('\n', Enumerable.Range(1, Size).Select(i => $"--- m{i}:\n{Tail(harness.Log($"curpstore-m{i}"))}"));

    /// <summary>Makes the two clusters' current revisions equal by writing a filler key on the one behind, so that a
    /// test's revisions compare exactly even when an earlier test of the class stopped half-way on one side.</summary>
    public async Task AlignRevisionsAsync()
    {
        var curpStore = await RevisionAsync(CurpStore[0]);
        var etcd = await RevisionAsync(Etcd[0]);
        var (behind, count) = curpStore < etcd ? (CurpStore[0], etcd - curpStore) : (Etcd[0], curpStore - etcd);
        for (var i = 0; i < count; i++)
        {
            var (exitCode, output) = await Etcdctl.RunAsync(behind, ["put", "compat-filler", "x"]);
            Assert.AreEqual(0, exitCode, output);
        }
    }

    /// <summary>The current revision as etcdctl sees it (a linearizable read's header).</summary>
    public static async Task<long> RevisionAsync(string endpoint)
    {
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["get", "compat-revision-probe", "-w", "json"]);
        Assert.AreEqual(0, exitCode, output);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }

    private string[] StartCluster(bool etcd)
    {
        var side = etcd ? "etcd" : "curpstore";
        var ports = Enumerable.Range(0, Size).Select(_ => (Client: ServerProcessHarness.FreePort(), Peer: ServerProcessHarness.FreePort())).ToArray();
        var initialCluster = string.Join(',', ports.Select((p, i) => $"m{i + 1}=http://127.0.0.1:{p.Peer}"));
        var endpoints = new string[Size];
        for (var i = 0; i < Size; i++)
        {
            var client = $"http://127.0.0.1:{ports[i].Client.ToString(CultureInfo.InvariantCulture)}";
            var peer = $"http://127.0.0.1:{ports[i].Peer.ToString(CultureInfo.InvariantCulture)}";
            string[] flags =
            [
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", $"compat-{side}",
            ];
            var name = $"m{i + 1}";
            if (etcd)
            {
                harness.StartEtcdMember($"etcd-{name}", name, flags);
            }
            else
            {
                harness.Start($"curpstore-{name}", ["--name", name, "--data-dir", Path.Combine(harness.Root, name + ".curpstore"), .. flags]);
            }
            endpoints[i] = client;
        }
        return endpoints;
    }

    private static string Tail(string log) => log.Length <= 4000 ? log : log[^4000..];

    public void Dispose() => harness.Dispose();
}
