using CurpStore.Server.Configuration;

namespace CurpStore.Server.Tests;

[TestClass]
public sealed class ServerOptionsTests
{
    private static ServerOptions Parse(params string[] args) => ServerOptionsParser.Parse(args).Options;

    [TestMethod]
    public void NoFlags_IsASingleMemberOnEtcdsDefaultPorts()
    {
        var options = Parse();
        Assert.AreEqual("default", options.Name);
        Assert.AreEqual("default.curpstore", options.DataDir);
        Assert.AreEqual(new Uri("http://127.0.0.1:2379"), options.ListenClientUrls.Single());
        Assert.AreEqual(new Uri("http://127.0.0.1:2380"), options.ListenPeerUrls.Single());
        Assert.AreEqual(100, options.HeartbeatIntervalMs);
        Assert.AreEqual(1_000, options.ElectionTimeoutMs);
        Assert.AreEqual("default", options.EffectiveInitialCluster.Single().Name);
    }

    [TestMethod]
    public void EtcdStyleFlags_InEveryForm()
    {
        var options = Parse(
            "--name", "infra1", "-data-dir=/tmp/x", "--listen-client-urls", "http://127.0.0.1:12379,http://127.0.0.1:22379",
            "--initial-advertise-peer-urls", "http://127.0.0.1:12380", "--listen-peer-urls=http://127.0.0.1:12380",
            "--initial-cluster", "infra1=http://127.0.0.1:12380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380",
            "--initial-cluster-state", "existing", "--initial-cluster-token", "tkn", "--heartbeat-interval", "50", "--election-timeout", "500",
            "--strict-revisions", "--log-level", "debug", "--max-request-bytes", "4096", "--max-txn-ops=7", "--experimental-initial-corrupt-check");
        Assert.AreEqual("infra1", options.Name);
        Assert.AreEqual("/tmp/x", options.DataDir);
        Assert.AreEqual(2, options.ListenClientUrls.Length);
        Assert.AreEqual(3, options.InitialCluster.Length);
        Assert.AreEqual(ClusterState.Existing, options.InitialClusterState);
        Assert.AreEqual("tkn", options.InitialClusterToken);
        Assert.AreEqual(50, options.HeartbeatIntervalMs);
        Assert.IsTrue(options.StrictRevisions);
        Assert.IsTrue(options.InitialCorruptCheck);
        Assert.IsFalse(Parse().InitialCorruptCheck, "off by default, as in etcd");
        Assert.IsTrue(Parse().StrictReconfigCheck, "on by default, as in etcd");
        Assert.IsFalse(Parse("--strict-reconfig-check=false").StrictReconfigCheck);
        Assert.AreEqual(LogLevel.Debug, options.LogLevel);
        Assert.AreEqual((4096, 7), (options.MaxRequestBytes, options.MaxTxnOps));
        Assert.AreEqual((1_572_864, 128), (Parse().MaxRequestBytes, Parse().MaxTxnOps), "etcd's defaults");
        Assert.AreEqual(256, Parse().MaxWritesInFlight);
        Assert.AreEqual(2048, Parse("--experimental-max-writes-in-flight", "2048").MaxWritesInFlight);
    }

    [TestMethod]
    [DataRow("flag provided but not defined: -nmae", "--nmae", "x")]
    [DataRow("flag needs an argument: -name", "--name")]
    [DataRow("should be at least as 5 times as --heartbeat-interval", "--heartbeat-interval", "300")]
    [DataRow("valid values are \"new\", \"existing\"", "--initial-cluster-state", "old")]
    [DataRow("URL scheme must be http, https, unix, or unixs", "--listen-client-urls", "ftp://127.0.0.1:1")]
    [DataRow("couldn't find local name \"a\"", "--name", "a", "--initial-cluster", "b=http://127.0.0.1:2380")]
    [DataRow("missing from --initial-advertise-peer-urls", "--initial-cluster", "default=http://127.0.0.1:9999")]
    [DataRow("flag given twice: --name", "--name", "a", "--name", "b")]
    [DataRow("-experimental-max-writes-in-flight", "--experimental-max-writes-in-flight", "0")]
    [DataRow("for flag -experimental-max-writes-in-flight: at most 65536", "--experimental-max-writes-in-flight", "2147483647")]
    [DataRow("invalid value \"10 min\" for flag -experimental-watch-progress-notify-interval: parse error", "--experimental-watch-progress-notify-interval", "10 min")]
    [DataRow("invalid value \"5\" for flag -experimental-watch-progress-notify-interval: parse error", "--experimental-watch-progress-notify-interval", "5")]
    public void BadInput_IsRefusedWithAMessageNamingTheFlag(string expected, params string[] args)
    {
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => Parse(args));
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(true, "--experimental-fast-path")]
    [DataRow(true, "--experimental-fast-path=true")]
    [DataRow(false, "--experimental-fast-path=false")]
    [DataRow(false, "-experimental-fast-path=0")]
    public void ExperimentalFastPath_IsOnUnlessTurnedOff(bool expected, params string[] args) =>
        Assert.AreEqual(expected, Parse(args).FastPath);

    [TestMethod]
    public void ExperimentalFastPath_ComesFromTheEnvironmentToo_AndRefusesNonBooleans()
    {
        Assert.IsFalse(ServerOptionsParser.Parse([], new Dictionary<string, string> { ["ETCD_EXPERIMENTAL_FAST_PATH"] = "false" }).Options.FastPath);
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => Parse("--experimental-fast-path=off"));
        Assert.AreEqual("invalid boolean value \"off\" for -experimental-fast-path", error.Message);
        StringAssert.Contains(ServerOptionsParser.Usage, "--experimental-fast-path=true|false");
    }

    [TestMethod]
    [DataRow("10m0s", 600_000)]
    [DataRow("1h30m", 5_400_000)]
    [DataRow("1.5s", 1_500)]
    [DataRow("250ms", 250)]
    [DataRow("20ms", 100)] // raised to etcd's minimum
    [DataRow("0", 600_000)] // etcd keeps its default
    public void WatchProgressNotifyInterval_TakesAGoDuration(string value, int expectedMs)
    {
        Assert.AreEqual(TimeSpan.FromMilliseconds(10 * 60 * 1000), Parse().Watch.ProgressNotifyInterval, "etcd's default is 10 minutes");
        Assert.AreEqual(TimeSpan.FromMilliseconds(expectedMs), Parse("--experimental-watch-progress-notify-interval", value).Watch.ProgressNotifyInterval);
    }

    [TestMethod]
    public void QuotaBackendBytes_ZeroIsEtcdsTwoGiB_NegativeIsNoQuota_AndComesFromFlagEnvironmentOrConfigFile()
    {
        Assert.AreEqual(2L * 1024 * 1024 * 1024, Parse().EffectiveQuotaBackendBytes);
        Assert.AreEqual(2L * 1024 * 1024 * 1024, Parse("--quota-backend-bytes", "0").EffectiveQuotaBackendBytes);
        Assert.AreEqual(long.MaxValue, Parse("--quota-backend-bytes=-1").EffectiveQuotaBackendBytes);
        Assert.AreEqual(150_000L, Parse("--quota-backend-bytes", "150000").EffectiveQuotaBackendBytes);
        Assert.AreEqual(8L << 30, ServerOptionsParser.Parse([], new Dictionary<string, string> { ["ETCD_QUOTA_BACKEND_BYTES"] = "8589934592" }).Options.QuotaBackendBytes);
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => Parse("--quota-backend-bytes", "2GB"));
        Assert.AreEqual("invalid value \"2GB\" for flag -quota-backend-bytes: parse error", error.Message);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "quota-backend-bytes: 4096\nexperimental-corrupt-check-time: 2m\n");
            var parsed = ServerOptionsParser.Parse(["--config-file", path]).Options;
            Assert.AreEqual((4096L, TimeSpan.FromMinutes(2)), (parsed.QuotaBackendBytes, parsed.CorruptCheckInterval));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void CorruptCheckTime_IsAGoDuration_DefaultNever()
    {
        Assert.AreEqual(TimeSpan.Zero, Parse().CorruptCheckInterval);
        Assert.AreEqual(TimeSpan.FromSeconds(90), Parse("--experimental-corrupt-check-time", "1m30s").CorruptCheckInterval);
        Assert.ThrowsExactly<ServerOptionsException>(() => Parse("--experimental-corrupt-check-time", "soon"));
    }

    [TestMethod]
    public void EnvironmentVariables_AreEtcds_AndAFlagMayNotShadowOne()
    {
        var env = new Dictionary<string, string> { ["ETCD_NAME"] = "fromenv", ["ETCD_INITIAL_CLUSTER"] = "fromenv=http://127.0.0.1:2380", ["PATH"] = "/bin" };
        Assert.AreEqual("fromenv", ServerOptionsParser.Parse([], env).Options.Name);
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse(["--name", "x"], env));
        StringAssert.Contains(error.Message, "conflicting environment variable \"ETCD_NAME\"");
    }

    [TestMethod]
    [DataRow("name: cfg\nheartbeat-interval: 20\nelection-timeout: 200\nlisten-client-urls: http://127.0.0.1:3379\ninitial-cluster: cfg=http://127.0.0.1:2380\n")]
    [DataRow("{\"name\": \"cfg\", \"heartbeat-interval\": 20, \"election-timeout\": 200, \"listen-client-urls\": [\"http://127.0.0.1:3379\"], \"initial-cluster\": \"cfg=http://127.0.0.1:2380\"}")]
    public void ConfigFile_InYamlOrJson_ReplacesFlags(string content)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, content);
            var parsed = ServerOptionsParser.Parse(["--config-file", path, "--name", "ignored"]);
            Assert.AreEqual("cfg", parsed.Options.Name);
            Assert.AreEqual(20, parsed.Options.HeartbeatIntervalMs);
            Assert.AreEqual(new Uri("http://127.0.0.1:3379"), parsed.Options.ListenClientUrls.Single());
            Assert.IsTrue(parsed.Warnings.Any(w => w.Contains("--name", StringComparison.Ordinal)), "the ignored flag is named in a warning");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ConfigFile_WithAnUnknownKey_IsRefused()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "name: x\nheartbeat-intervall: 5\n");
            var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse(["--config-file", path]));
            StringAssert.Contains(error.Message, "unknown key \"heartbeat-intervall\"");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MemberAndClusterIds_AreEtcds()
    {
        // etcd's well-known ids for a default single member: member 8e9e05c52164694d, cluster cdf818194e3a8c32.
        var member = MemberIds.MemberId([new Uri("http://localhost:2380")], "etcd-cluster");
        Assert.AreEqual(0x8e9e05c52164694dUL, member);
        Assert.AreEqual(0xcdf818194e3a8c32UL, MemberIds.ClusterId([member]));
    }

    [TestMethod]
    [DataRow(0x9401bab0b540f0b1UL)] // top bit set: the case that once sent proposer replies nowhere
    [DataRow(0x2f6241bb02ca2cf5UL)]
    public void ProposerIds_MapBackToTheirMember_WhateverTheMemberIdsTopBit(ulong memberId)
    {
        var members = new HashSet<ulong> { memberId, 0x1ae8bb526e6e8aa1UL };
        var proposer = ServerProcess.ProposerIdOf(memberId);
        Assert.IsFalse(members.Contains(proposer), "a proposer id must not be a member id");
        Assert.AreEqual(memberId, ServerProcess.MemberOfEndpoint(proposer, members));
        Assert.AreEqual(memberId, ServerProcess.MemberOfEndpoint(memberId, members));
    }
}
