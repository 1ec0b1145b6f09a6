using CurpStore.Curp;
using CurpStore.Server.Metrics;

namespace CurpStore.Server.Tests.Metrics;

/// <summary>The member's metrics rendered by <see cref="PrometheusExporter"/> and read back by the strict
/// <see cref="PrometheusText"/> parser; the parser itself refuses what the format forbids.</summary>
[TestClass]
public sealed class PrometheusExporterTests
{
    private static Completion Write(CompletionPath path, ProposeError error = ProposeError.None) => new(new ProposeId(1, 1), null, path, error);

    [TestMethod]
    public void MemberMetrics_RenderAsValidTextFormat_WithTheCountsRecorded()
    {
        using var metrics = new MemberMetrics();
        using var exporter = new PrometheusExporter(metrics.Meter);
        foreach (var (path, seconds) in new[] { (CompletionPath.Fast, 0.0002), (CompletionPath.Fast, 0.003), (CompletionPath.Fast, 0.003), (CompletionPath.CommitNotice, 0.02), (CompletionPath.Slow, 9.0) })
        {
            metrics.Started(read: false);
            metrics.Completed(Write(path), read: false, TimeSpan.FromSeconds(seconds));
        }
        metrics.Started(read: false);
        metrics.Completed(Write(CompletionPath.Slow, ProposeError.TooManyRequests), read: false, TimeSpan.FromSeconds(1));
        metrics.Started(read: false); // still in flight
        metrics.Started(read: true);
        metrics.Completed(Write(CompletionPath.Read), read: true, TimeSpan.FromSeconds(0.001));
        metrics.LeaderChanged();
        metrics.LeaderChanged();
        metrics.Publish(nodeId: 7, leaderId: 9, commit: 40, applied: 37, new NodeCounters { LeaderConflicts = 3, WitnessConflicts = 5, RecoveredCommands = 2 });
        metrics.WalFsynced(TimeSpan.FromMilliseconds(1.5));

        var text = exporter.Render();
        var families = PrometheusText.Parse(text);

        Assert.AreEqual(3, families.Value("curpstore_proposals_committed_total", ("path", "fast")), text);
        Assert.AreEqual(1, families.Value("curpstore_proposals_committed_total", ("path", "commit_notice")));
        Assert.AreEqual(1, families.Value("curpstore_proposals_committed_total", ("path", "slow")));
        Assert.AreEqual("counter", families["curpstore_proposals_committed_total"].Type);
        Assert.AreEqual(0.6, families.Value("curpstore_fast_path_ratio"), 1e-9);
        Assert.AreEqual(1, families.Value("etcd_server_proposals_failed_total"));
        Assert.AreEqual(1, families.Value("etcd_server_proposals_pending"));
        Assert.AreEqual(1, families.Value("curpstore_proposals_in_flight", ("kind", "write")));
        Assert.AreEqual(0, families.Value("curpstore_proposals_in_flight", ("kind", "read")));
        Assert.AreEqual(2, families.Value("etcd_server_leader_changes_seen_total"));
        Assert.AreEqual((1, 0), (families.Value("etcd_server_has_leader"), families.Value("etcd_server_is_leader")));
        Assert.AreEqual((40, 37), (families.Value("etcd_server_proposals_committed_total"), families.Value("etcd_server_proposals_applied_total")));
        Assert.AreEqual(3, families.Value("curpstore_apply_lag_entries"));
        Assert.AreEqual((3, 5), (families.Value("curpstore_conflicts_total", ("kind", "leader")), families.Value("curpstore_conflicts_total", ("kind", "witness"))));
        Assert.AreEqual(2, families.Value("curpstore_recovered_commands_total"));

        // Histograms: cumulative buckets, the slow write of 9 s only in +Inf, sum and count per path.
        var commit = families["curpstore_proposal_commit_duration_seconds"];
        Assert.AreEqual("histogram", commit.Type);
        double Bucket(string path, string le) => commit.Samples.Single(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal) && s.Has("path", path) && s.Has("le", le)).Value;
        Assert.AreEqual(1, Bucket("fast", "0.00025"));
        Assert.AreEqual(3, Bucket("fast", "0.004"));
        Assert.AreEqual(0, Bucket("slow", "8.192"));
        Assert.AreEqual(1, Bucket("slow", "+Inf"));
        Assert.AreEqual(3, families.Value("curpstore_proposal_commit_duration_seconds_count", ("path", "fast")));
        Assert.AreEqual(0.0062, families.Value("curpstore_proposal_commit_duration_seconds_sum", ("path", "fast")), 1e-9);
        var fsync = families["etcd_disk_wal_fsync_duration_seconds"];
        Assert.AreEqual(0, fsync.Samples.Single(s => s.Has("le", "0.001")).Value);
        Assert.AreEqual(1, fsync.Samples.Single(s => s.Has("le", "0.002")).Value);
        Assert.AreEqual(14 + 3, fsync.Samples.Count, "etcd's 14 buckets, +Inf, sum and count");
    }

    [TestMethod]
    public void TwoMembersInOneProcess_EachExporterShowsOnlyItsOwnMeter()
    {
        using var first = new MemberMetrics();
        using var second = new MemberMetrics();
        using var exporter = new PrometheusExporter(first.Meter);
        second.Started(read: false);
        second.Completed(Write(CompletionPath.Fast), read: false, TimeSpan.FromMilliseconds(1));
        var families = PrometheusText.Parse(exporter.Render());
        Assert.AreEqual(0, families.Value("curpstore_proposals_committed_total", ("path", "fast")));
        Assert.IsFalse(families.ContainsKey("curpstore_proposal_commit_duration_seconds"), "no histogram before the member's first write");
    }

    [TestMethod]
    public void Parser_ReadsLabelEscapesTimestampsAndSpecialValues()
    {
        var families = PrometheusText.Parse(
            "# HELP m A \\\\ help\\nline.\n# TYPE m gauge\nm{a=\"x\\\"y\\\\z\\n\",b=\"\"} -Inf 1700000000000\nm{a=\"2\"} 1.5e3\n\n# HELP n n\n# TYPE n counter\nn 0\n");
        Assert.AreEqual("A \\ help\nline.", families["m"].Help);
        Assert.AreEqual("x\"y\\z\n", families["m"].Samples[0].Labels["a"]);
        Assert.IsTrue(double.IsNegativeInfinity(families["m"].Samples[0].Value));
        Assert.AreEqual(1500, families.Value("m", ("a", "2")));
        Assert.AreEqual(0, families.Value("n"));
    }

    private const string Histogram = "# HELP h h\n# TYPE h histogram\n";

    [TestMethod]
    [DataRow("# TYPE m gauge\nm 1\n", "before both HELP and TYPE")]
    [DataRow("# HELP m m\nm 1\n", "before both HELP and TYPE")]
    [DataRow("# HELP m m\n", "lacks its TYPE")]
    [DataRow("# HELP m m\n# HELP m m\n# TYPE m gauge\nm 1\n", "a second HELP")]
    [DataRow("# HELP m m\n# TYPE m gauge\n# TYPE m gauge\nm 1\n", "a second TYPE")]
    [DataRow("# HELP m m\n# TYPE m meter\nm 1\n", "an unknown type")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm 1\n# HELP m again\n", "after the family's samples")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{a=\"1\"} 1\n# HELP n n\n# TYPE n gauge\nn 1\nm{a=\"2\"} 1\n", "appears again")]
    [DataRow("# some comment\n", "not a HELP or TYPE")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm 1", "end with a line feed")]
    [DataRow("# HELP m m\n# TYPE m gauge\n1m 1\n", "no valid metric name")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{1a=\"x\"} 1\n", "a bad label name")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{__a=\"x\"} 1\n", "a bad label name")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{a=\"x\\t\"} 1\n", "an escape other than")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{a=\"x\",a=\"y\"} 1\n", "label a twice")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{a=\"x\" 1\n", "labels not separated")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm{a=x} 1\n", "without =\"value\"")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm one\n", "not a float")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm 1 2 3\n", "optional integer timestamp")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm 1\nm 2\n", "a repeated series")]
    [DataRow("# HELP m m\n# TYPE m counter\nm -1\n", "a counter below 0")]
    [DataRow("# HELP m m\n# TYPE m gauge\nm_total 1\n", "TYPE missing")]
    [DataRow(Histogram + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n", "fewer than")]
    [DataRow(Histogram + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n", "does not follow")]
    [DataRow(Histogram + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "_count is 3")]
    [DataRow(Histogram + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no +Inf bucket")]
    [DataRow(Histogram + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum")]
    [DataRow(Histogram + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n", "no _count")]
    [DataRow(Histogram + "h_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "le belongs on every bucket")]
    [DataRow(Histogram + "h 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "other than _bucket")]
    public void Parser_RefusesWhatTheFormatForbids(string text, string expected)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => PrometheusText.Parse(text));
        StringAssert.Contains(error.Message, expected);
    }
}
