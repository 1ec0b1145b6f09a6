using System.Text.Json;
using CurpStore.Rpc;

namespace CurpStore.Server.Tests.Processes;

/// <summary>
/// The npm <c>etcd3</c> client (grpc-js; an etcd v3 client written independently of etcd's Go client) against a
/// 3-member CurpStore cluster of real processes, its calls spread over the three members, and the same scripts against
/// Debian's real etcd 3.4 in the same test: KV, txn, watch streams and leases must print exactly what etcd printed
/// (tests/Rpc.Tests/interop/etcd3-suite.js), and 20 concurrent clients incrementing one counter by compare-and-swap
/// must lose no update (etcd3-cas.js).
/// </summary>
[TestClass]
public sealed class Etcd3SuiteTests
{
    private const int CasClients = 20;
    private const int CasIncrementsPerClient = 10;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static ServerProcessHarness? harness;
    private static IReadOnlyList<string> curpStoreEndpoints = [];
    private static string etcdEndpoint = "";

    [ClassInitialize]
    public static async Task StartServers(TestContext context)
    {
        harness = new ServerProcessHarness();
        curpStoreEndpoints = harness.StartCluster(3);
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        etcdEndpoint = $"http://127.0.0.1:{clientPort}";
        harness.StartEtcd("etcd",
            "--listen-client-urls", etcdEndpoint, "--advertise-client-urls", etcdEndpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"etcd=http://127.0.0.1:{peerPort}");
        foreach (var endpoint in curpStoreEndpoints.Append(etcdEndpoint))
        {
            using var channel = new GrpcChannel(new Uri(endpoint));
            await ServerProcessHarness.WaitForLeaderAsync(channel, StartTimeout);
        }
    }

    [ClassCleanup]
    public static void StopServers() => harness?.Dispose();

    private static string Logs() => string.Join('\n', new[] { "m1", "m2", "m3" }.Select(name => $"--- {name}\n{harness!.Log(name)}"));

    /// <summary>KV (put, get, getAll with prefix/limit/sort/keys/count/revision filters, delete with prev_kv, past
    /// revisions), txn (compares on value, version, create and mod revision, lease; then/else with put, range and
    /// delete), watch (four watchers on one stream: prefix with prev_kv, one key, deletes only, one cancelled midway;
    /// one from a past revision; a txn's events), leases (grant, put with lease, time-to-live with keys, keep-alive,
    /// list, revoke, expiry deleting keys seen by a watcher, automatic keep-alive beyond twice the TTL).</summary>
    [TestMethod]
    public async Task Etcd3Suite_OnThreeMembers_PrintsWhatEtcdPrints()
    {
        using var etcd = await NodeInterop.RunAsync("etcd3-suite.js", etcdEndpoint, "suite/");
        using var curpStore = await NodeInterop.RunAsync("etcd3-suite.js", string.Join(',', curpStoreEndpoints), "suite/");
        var expected = etcd.RootElement.GetRawText();
        var actual = curpStore.RootElement.GetRawText();

        // The script checks what it means to: against etcd it saw the history it wrote.
        var watch = etcd.RootElement.GetProperty("watch");
        Assert.AreEqual(4, watch.GetProperty("distinctIds").GetInt32());
        Assert.AreEqual(8, watch.GetProperty("all").GetArrayLength(), expected);
        Assert.AreEqual(2, watch.GetProperty("cancelled").GetArrayLength(), expected);
        Assert.AreEqual(-1, etcd.RootElement.GetProperty("leases").GetProperty("timeToLiveAfterRevoke").GetInt32(), expected);
        Assert.AreEqual("k", etcd.RootElement.GetProperty("leases").GetProperty("keptAliveKey").GetString(), expected);

        foreach (var section in new[] { "kv", "txn", "watch", "leases" })
        {
            Assert.AreEqual(etcd.RootElement.GetProperty(section).GetRawText(), curpStore.RootElement.GetProperty(section).GetRawText(),
                $"the {section} section differs from etcd's\n{Logs()}");
        }
        Assert.AreEqual(expected, actual);
    }

    /// <summary>20 etcd3 clients, each its own <c>Etcd3</c> instance on one of the three members (etcd: its one member),
    /// each doing <see cref="CasIncrementsPerClient"/> compare-and-swap increments of one counter: no update is lost,
    /// every successful txn has its own revision, and the revisions follow the values written.</summary>
    [TestMethod]
    [DataRow("curpstore")]
    [DataRow("etcd")]
    public async Task TwentyEtcd3Clients_CompareAndSwapIncrements_LoseNoUpdate(string system)
    {
        var endpoints = system == "etcd" ? etcdEndpoint : string.Join(',', curpStoreEndpoints);
        using var result = await NodeInterop.RunAsync("etcd3-cas.js", endpoints, "cas/counter",
            CasClients.ToString(System.Globalization.CultureInfo.InvariantCulture), CasIncrementsPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture));
        const int total = CasClients * CasIncrementsPerClient;
        var writes = result.RootElement.GetProperty("writes").EnumerateArray()
            .Select(w => (Value: w[0].GetInt64(), Revision: w[1].GetInt64())).OrderBy(w => w.Value).ToList();
        var failures = result.RootElement.GetProperty("failures").GetInt32();
        Console.WriteLine($"{system}: {total} increments, {failures} failed compare-and-swaps");
        Assert.AreEqual(total, result.RootElement.GetProperty("final").GetInt64(), "an update was lost");
        Assert.AreEqual(total, writes.Count);
        CollectionAssert.AreEqual(Enumerable.Range(1, total).Select(v => (long)v).ToList(), writes.Select(w => w.Value).ToList(),
            "each value 1..N is written by exactly one successful compare-and-swap");
        Assert.AreEqual(total, writes.Select(w => w.Revision).Distinct().Count(), "two successful compare-and-swaps answered the same revision");
        for (var i = 1; i < writes.Count; i++)
        {
            Assert.IsTrue(writes[i].Revision > writes[i - 1].Revision,
                $"value {writes[i].Value} was written at revision {writes[i].Revision}, not after value {writes[i - 1].Value} at {writes[i - 1].Revision}");
        }
    }
}
