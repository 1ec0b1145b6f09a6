using System.Net;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;
using CurpStore.Tests.Shared;

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
    private static readonly TimeSpan LinkDelay = TimeSpan.FromMilliseconds(10);

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

    [TestMethod]
    public async Task EtcdctlPutsOnDistinctKeys_AtAFollowerBehindDelayedLinks_ItsMetricsShowTheFastPath()
    {
        var proxies = new List<DelayProxy>();
        using var harness = new ServerProcessHarness();
        try
        {
            var endpoints = harness.StartCluster(3, peerPort =>
            {
                var proxy = new DelayProxy(peerPort, LinkDelay);
                proxies.Add(proxy);
                return proxy.Port;
            });
            var memberIds = new List<ulong>();
            ulong leader = 0;
            foreach (var endpoint in endpoints)
            {
                using var channel = new GrpcChannel(new Uri(endpoint));
                var status = await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60));
                memberIds.Add(status.Header.MemberId);
                leader = status.Leader;
            }
            var follower = endpoints[memberIds.FindIndex(id => id != leader)];

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
            // Disjoint keys and nothing else writing: every put may commit fast. Some lose the race to a commit notice,
            // which also arrives one round trip after the proposal (the follower's own copy of the entry plus the
            // leader's); it needs one more fsync, so it wins only when the other follower's acceptance is late (a
            // loaded machine). A majority of the puts must be fast.
            Assert.IsTrue(fast >= (Puts / 2) + 1, paths);
            const string latency = "curpstore_proposal_commit_duration_seconds_count";
            var fastBefore = before.ContainsKey("curpstore_proposal_commit_duration_seconds") ? before.Value(latency, ("path", "fast")) : 0;
            Assert.AreEqual(fast, after.Value(latency, ("path", "fast")) - fastBefore, "one latency observation per fast put");
            Assert.IsTrue(after.Value("curpstore_fast_path_ratio") > 0, paths);
            Assert.IsTrue(after.Value("etcd_server_proposals_applied_total") >= before.Value("etcd_server_proposals_applied_total") + Puts);
            Assert.IsTrue(after.Value("etcd_disk_wal_fsync_duration_seconds_count") > before.Value("etcd_disk_wal_fsync_duration_seconds_count"));
            Assert.AreEqual(0, after.Value("etcd_server_proposals_failed_total"));
            Assert.AreEqual(1, after.Value("etcd_server_leader_changes_seen_total"), "one leader since the start");
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
