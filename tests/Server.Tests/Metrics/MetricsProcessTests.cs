using System.Net;
using CurpStore.Rig;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Metrics;

/// <summary>
/// <c>GET /metrics</c> and <c>GET /health</c> on the client URL of real member processes. With etcdctl against a
/// follower of a 3-member cluster whose peer links are delayed (a TCP proxy in front of every peer port, as a wide-area
/// link) and puts on distinct keys, the follower's own metrics show the puts committed on the fast path.
/// </summary>
[TestClass]
public sealed class MetricsProcessTests
{
    private const int Puts = 30;
    private static readonly LinkDelay LinkDelay = new(OneWayMs: 10, JitterMeanMs: 0);

    /// <summary>Scrapes a member over h2c (the client URL speaks HTTP/2 only, as gRPC needs).</summary>
    internal static async Task<(HttpStatusCode Status, string ContentType, string Body)> GetAsync(string endpoint, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint + path) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "", await response.Content.ReadAsStringAsync());
    }

    private static async Task<IReadOnlyDictionary<string, PrometheusFamily>> ScrapeAsync(string endpoint)
    {
        var (status, contentType, body) = await GetAsync(endpoint, "/metrics");
        Assert.AreEqual(HttpStatusCode.OK, status, body);
        Assert.AreEqual("text/plain; version=0.0.4; charset=utf-8", contentType);
        return PrometheusText.Parse(body);
    }

    private static double Committed(IReadOnlyDictionary<string, PrometheusFamily> metrics, string path) =>
        metrics.Value("curpstore_proposals_committed_total", ("path", path));

    /// <summary><c>--listen-metrics-urls</c> serves <c>/metrics</c> and <c>/health</c> over HTTP/1.1, on CurpStore as on
    /// Debian's etcd; etcd's own exposition passes the strict parser, and every <c>etcd_*</c> family CurpStore serves
    /// is one etcd serves, with the same HELP, TYPE and histogram buckets.</summary>
    [TestMethod]
    public async Task MetricsUrls_ServeHttp1_AndEveryEtcdNamedFamilyMatchesEtcds()
    {
        using var harness = new ServerProcessHarness();
        var scraped = new List<IReadOnlyDictionary<string, PrometheusFamily>>();
        foreach (var etcd in new[] { false, true })
        {
            var (clientPort, peerPort, metricsPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
            var endpoint = $"http://127.0.0.1:{clientPort}";
            string[] flags =
            [
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint, "--listen-metrics-urls", $"http://127.0.0.1:{metricsPort}",
                "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
                "--initial-cluster", $"m1=http://127.0.0.1:{peerPort}",
            ];
            _ = etcd ? harness.StartEtcd("m1", flags) : harness.Start("curpstore", ["--name", "m1", "--data-dir", Path.Combine(harness.Root, "curpstore"), .. flags]);
            using (var channel = new GrpcChannel(new Uri(endpoint)))
            {
                await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
                await ServerProcessHarness.PutAsync(channel, "k", "v", TimeSpan.FromSeconds(10)); // a WAL fsync at least
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) }; // HTTP/1.1, as Prometheus scrapes
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
            Assert.AreEqual((HttpStatusCode.OK, new Version(1, 1)), (response.StatusCode, response.Version));
            scraped.Add(PrometheusText.Parse(await response.Content.ReadAsStringAsync()));
            StringAssert.StartsWith(await http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/health")), "{\"health\":\"true\"");
        }
        var (curpStore, etcdFamilies) = (scraped[0], scraped[1]);
        var etcdNamed = curpStore.Values.Where(f => f.Name.StartsWith("etcd_", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(8, etcdNamed.Count, string.Join(", ", etcdNamed.Select(f => f.Name)));
        foreach (var family in etcdNamed)
        {
            Assert.IsTrue(etcdFamilies.TryGetValue(family.Name, out var expected), $"etcd has no {family.Name}");
            Assert.AreEqual((expected.Help, expected.Type), (family.Help, family.Type), family.Name);
            static string Bounds(PrometheusFamily f) => string.Join(' ', f.Samples.Where(s => s.Labels.ContainsKey("le")).Select(s => s.Labels["le"]));
            Assert.AreEqual(Bounds(expected), Bounds(family), family.Name);
        }
        Assert.AreEqual(1, curpStore.Value("etcd_server_is_leader"));
    }

    [TestMethod]
    public async Task EtcdctlPutsOnDistinctKeys_AtAFollowerBehindDelayedLinks_ItsMetricsShowTheFastPath()
    {
        var proxies = new List<DelayProxy>();
        using var harness = new ServerProcessHarness();
        try
        {
            var endpoints = harness.StartCluster(3, peerPort =>
            {
                var proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, peerPort), LinkDelay, seed: proxies.Count);
                proxies.Add(proxy);
                return proxy.Endpoint.Port;
            }, "--log-level", "debug");
            var memberIds = new List<ulong>();
            ulong leader = 0;
            foreach (var endpoint in endpoints)
            {
                using var channel = new GrpcChannel(new Uri(endpoint));
                var status = await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60));
                memberIds.Add(status.Header.MemberId);
                leader = status.Leader;
            }
            var followerIndex = memberIds.FindIndex(id => id != leader);
            var follower = endpoints[followerIndex];

            var (healthStatus, healthType, health) = await GetAsync(follower, "/health");
            Assert.AreEqual((HttpStatusCode.OK, "application/json", "{\"health\":\"true\",\"reason\":\"\"}"), (healthStatus, healthType, health));

            var before = await ScrapeAsync(follower);
            Assert.AreEqual((1, 0), (before.Value("etcd_server_has_leader"), before.Value("etcd_server_is_leader")), "the member scraped is a follower");
            for (var i = 0; i < Puts; i++)
            {
                var (exitCode, output) = await Etcdctl.RunAsync(follower, ["put", $"metrics/key{i}", $"v{i}"]);
                Assert.AreEqual((0, "OK"), (exitCode, output.Trim()));
            }
            var after = await ScrapeAsync(follower);

            var (fast, notice, slow) = (Committed(after, "fast") - Committed(before, "fast"), Committed(after, "commit_notice") - Committed(before, "commit_notice"),
                Committed(after, "slow") - Committed(before, "slow"));
            var paths = $"fast {fast}, commit notice {notice}, slow {slow} of {Puts} puts";
            Console.WriteLine(paths);
            Assert.AreEqual(Puts, fast + notice + slow, paths);
            // Disjoint keys and nothing else writing: no put needs the leader's order, so each completes fast or by
            // commit notice, not slowly (bar a stalled machine). With three members and the proposer on a follower both
            // arrive one round trip after the proposal: the fast path needs the leader's answer and the other
            // follower's promise, the commit notice the leader's answer and this member's own copy of the entry, which
            // the leader sends before its own fsync. Whichever the proposer finds complete first wins, so both show
            // (11 fast and 19 by commit notice of 30 in one CI run); the fast path must be among them.
            Assert.IsTrue(fast >= 1 && slow <= Puts / 10, paths);
            const string latency = "curpstore_proposal_commit_duration_seconds_count";
            var fastBefore = before.ContainsKey("curpstore_proposal_commit_duration_seconds") ? before.Value(latency, ("path", "fast")) : 0;
            Assert.AreEqual(fast, after.Value(latency, ("path", "fast")) - fastBefore, "one latency observation per fast put");
            Assert.IsTrue(after.Value("curpstore_fast_path_ratio") > 0, paths);
            Assert.IsTrue(after.Value("etcd_server_proposals_applied_total") >= before.Value("etcd_server_proposals_applied_total") + Puts);
            Assert.IsTrue(after.Value("etcd_disk_wal_fsync_duration_seconds_count") > before.Value("etcd_disk_wal_fsync_duration_seconds_count"));
            Assert.AreEqual(0, after.Value("etcd_server_proposals_failed_total"));
            Assert.AreEqual(1, after.Value("etcd_server_leader_changes_seen_total"), "one leader since the start");

            // At debug level the member logs each write's path too: as many fast lines as the counter says (bounded
            // wait: the harness reads the log as the process writes it).
            int FastLines() => harness.Log($"m{followerIndex + 1}").Split('\n').Count(l => l.Contains("committed on the fast path", StringComparison.Ordinal));
            for (var attempt = 0; attempt < 100 && FastLines() < Committed(after, "fast"); attempt++)
            {
                await Task.Delay(100);
            }
            Assert.AreEqual(Committed(after, "fast"), FastLines(), harness.Log($"m{followerIndex + 1}"));
        }
        finally
        {
            harness.Dispose();
            foreach (var proxy in proxies)
            {
                await proxy.DisposeAsync();
            }
        }
    }
}
