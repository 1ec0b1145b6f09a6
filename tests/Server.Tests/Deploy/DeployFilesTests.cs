using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CurpStore.GeoSim;
using CurpStore.Rpc;
using CurpStore.Server.Configuration;
using CurpStore.Server.Tests.Metrics;
using CurpStore.Server.Tests.Processes;
using YamlDotNet.RepresentationModel;

namespace CurpStore.Server.Tests.Deploy;

/// <summary>
/// The files under <c>deploy/</c> against the server itself: the systemd env files and the Kubernetes manifests go
/// through the server's own option parser and form one initial cluster tuned to the topology's round trips; the
/// Grafana dashboard asks only for metrics a real member serves; the Prometheus config scrapes the metrics port the
/// members listen on.
/// </summary>
[TestClass]
public sealed partial class DeployFilesTests
{
    private const int MetricsPort = 2381;

    private static string DeployPath(params string[] parts) => Path.Combine([ClusterProcessTests.RepositoryRoot(), "deploy", .. parts]);

    private static Topology ThreeRegions => TopologyLoader.Load(DeployPath("topologies", "three-regions.json"));

    /// <summary>The env files' placeholders (<c>&lt;us-east-host&gt;</c>) replaced by the names an operator would put.</summary>
    private static string SubstitutePlaceholders(string text) => PlaceholderPattern().Replace(text, m => $"{m.Groups[1].Value}.curpstore.example.net");

    private static Dictionary<string, string> ReadEnvFile(string path)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            Assert.IsGreaterThan(0, equals, $"{path}: '{line}' is not NAME=value");
            Assert.IsTrue(variables.TryAdd(line[..equals], line[(equals + 1)..]), $"{path}: {line[..equals]} given twice");
        }
        return variables;
    }

    /// <summary>What the server makes of these variables alone; a warning (an unknown ETCD_ variable) fails too.</summary>
    private static ServerOptions ParseEnvironment(IReadOnlyDictionary<string, string> environment, string source)
    {
        var parsed = ServerOptionsParser.Parse([], environment);
        Assert.IsEmpty(parsed.Warnings, source + ": " + string.Join("; ", parsed.Warnings));
        return parsed.Options;
    }

    /// <summary>etcd's tuning guide, as the WAN rig applies it: heartbeat ≈ the widest RTT (rounded up to 10 ms, at
    /// least 100), election timeout ten times that.</summary>
    private static (int HeartbeatMs, int ElectionMs) TimeoutsFor(Topology topology)
    {
        var widestRttMs = topology.Regions.SelectMany(a => topology.Regions.Select(b => 2 * topology.OneWayMs(a, b))).Max();
        var heartbeatMs = Math.Max(100, (int)Math.Ceiling(widestRttMs / 10) * 10);
        return (heartbeatMs, 10 * heartbeatMs);
    }

    private static void AssertOneTunedCluster(IReadOnlyList<ServerOptions> members, Topology topology)
    {
        var regions = topology.PlacementFor(3);
        Assert.HasCount(regions.Count, members);
        var cluster = members[0].InitialCluster;
        Assert.HasCount(members.Count, cluster);
        Assert.HasCount(members.Count, cluster.Select(m => m.Name).Distinct());
        var (heartbeatMs, electionMs) = TimeoutsFor(topology);
        foreach (var member in members)
        {
            CollectionAssert.AreEqual(cluster.ToList(), member.InitialCluster.ToList(), member.Name + ": another initial cluster");
            Assert.AreEqual(cluster.Single(m => m.Name == member.Name).PeerUrl, member.InitialAdvertisePeerUrls.Single(), member.Name);
            Assert.AreEqual((ClusterState.New, members[0].InitialClusterToken), (member.InitialClusterState, member.InitialClusterToken), member.Name);
            Assert.AreEqual((heartbeatMs, electionMs), (member.HeartbeatIntervalMs, member.ElectionTimeoutMs), member.Name);
            // Listening and advertising on the same ports: what others dial is what the member serves.
            Assert.AreEqual(member.ListenPeerUrls.Single().Port, member.InitialAdvertisePeerUrls.Single().Port, member.Name);
            Assert.AreEqual(member.ListenClientUrls.Single().Port, member.AdvertiseClientUrls.Single().Port, member.Name);
            Assert.AreEqual(MetricsPort, member.ListenMetricsUrls.Single().Port, member.Name);
        }
    }

    [TestMethod]
    public void SystemdEnvFiles_ParseWithTheServersParser_AndFormOneClusterTunedToTheTopology()
    {
        var regions = ThreeRegions.PlacementFor(3);
        var unit = File.ReadAllText(DeployPath("systemd", "curpstore@.service"));
        StringAssert.Contains(unit, "EnvironmentFile=/etc/curpstore/%i.env");
        StringAssert.Contains(unit, "StateDirectory=curpstore/%i");
        var members = new List<ServerOptions>();
        foreach (var region in regions)
        {
            var path = DeployPath("systemd", "env", region + ".env");
            var raw = ReadEnvFile(path);
            // Unreplaced placeholders must stop the server rather than start a member advertising nonsense.
            Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse([], raw), path);
            var options = ParseEnvironment(ReadEnvFile(path).ToDictionary(kv => kv.Key, kv => SubstitutePlaceholders(kv.Value)), path);
            // The unit instance is the region: its state directory /var/lib/curpstore/<region> is the data dir.
            Assert.AreEqual((region, $"/var/lib/curpstore/{region}"), (options.Name, options.DataDir), path);
            Assert.AreEqual($"{region}.curpstore.example.net", options.InitialAdvertisePeerUrls.Single().Host, path);
            members.Add(options);
        }
        AssertOneTunedCluster(members, ThreeRegions);
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)node[key];

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)node[key]).Value!;

    private static YamlSequenceNode Sequence(YamlNode node, string key) => (YamlSequenceNode)node[key];

    private static List<YamlMappingNode> Documents(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    [TestMethod]
    public void KubernetesManifests_ParseAndAgreeWithTheServicePorts_AndFormOneCluster()
    {
        var members = new List<ServerOptions>();
        foreach (var region in ThreeRegions.PlacementFor(3))
        {
            var path = DeployPath("kubernetes", $"curpstore-{region}.yaml");
            var documents = Documents(path);
            YamlMappingNode Kind(string kind, string name) =>
                documents.Single(d => Scalar(d, "kind") == kind && Scalar(Map(d, "metadata"), "name") == name);
            var statefulSet = Kind("StatefulSet", $"curpstore-{region}");
            var peerService = Kind("Service", $"curpstore-{region}-peer");
            var clientService = Kind("Service", $"curpstore-{region}-client");
            var spec = Map(statefulSet, "spec");
            var podSpec = Map(Map(spec, "template"), "spec");
            var container = (YamlMappingNode)Sequence(podSpec, "containers").Single();
            var containerPorts = Sequence(container, "ports").Cast<YamlMappingNode>()
                .ToDictionary(p => Scalar(p, "name"), p => int.Parse(Scalar(p, "containerPort"), CultureInfo.InvariantCulture));
            var podLabels = Map(Map(Map(spec, "template"), "metadata"), "labels");

            Assert.AreEqual("1", Scalar(spec, "replicas"), path);
            Assert.AreEqual(region, Scalar(Map(podSpec, "nodeSelector"), "topology.kubernetes.io/region"), path);
            Assert.AreEqual(Scalar(Map(peerService, "metadata"), "name"), Scalar(spec, "serviceName"), path);
            Assert.AreEqual(("None", "true"), (Scalar(Map(peerService, "spec"), "clusterIP"), Scalar(Map(peerService, "spec"), "publishNotReadyAddresses")), path);
            foreach (var service in new[] { peerService, clientService })
            {
                var serviceSpec = Map(service, "spec");
                foreach (var (label, value) in Map(serviceSpec, "selector"))
                {
                    Assert.AreEqual(((YamlScalarNode)value).Value, Scalar(podLabels, ((YamlScalarNode)label).Value!), $"{path}: selector {label}");
                }
                foreach (var port in Sequence(serviceSpec, "ports").Cast<YamlMappingNode>())
                {
                    var target = Scalar(port, "targetPort");
                    Assert.IsTrue(containerPorts.TryGetValue(target, out var containerPort), $"{path}: no container port {target}");
                    Assert.AreEqual(containerPort, int.Parse(Scalar(port, "port"), CultureInfo.InvariantCulture), $"{path}: service port {target}");
                }
            }
            var readiness = Map(Map(container, "readinessProbe"), "httpGet");
            Assert.AreEqual(("/health", "metrics"), (Scalar(readiness, "path"), Scalar(readiness, "port")), path);

            // The env as the kubelet makes it: POD_NAME from the pod's name, $(POD_NAME) expanded in later values.
            var podName = $"curpstore-{region}-0";
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in Sequence(container, "env").Cast<YamlMappingNode>())
            {
                var name = Scalar(variable, "name");
                environment[name] = name == "POD_NAME"
                    ? podName
                    : Regex.Replace(Scalar(variable, "value"), @"\$\((\w+)\)", m => environment[m.Groups[1].Value]);
            }
            Assert.AreEqual("metadata.name", Scalar(Map(Map(Sequence(container, "env").Cast<YamlMappingNode>().Single(v => Scalar(v, "name") == "POD_NAME"), "valueFrom"), "fieldRef"), "fieldPath"));
            var options = ParseEnvironment(environment, path);
            Assert.AreEqual(podName, options.Name, path);
            Assert.AreEqual(
                (containerPorts["client"], containerPorts["peer"], containerPorts["metrics"]),
                (options.ListenClientUrls.Single().Port, options.ListenPeerUrls.Single().Port, options.ListenMetricsUrls.Single().Port), path);
            // The peer URL is the pod's DNS name under its headless Service.
            Assert.AreEqual($"{podName}.{Scalar(spec, "serviceName")}.{Scalar(Map(statefulSet, "metadata"), "namespace")}.svc.cluster.local",
                options.InitialAdvertisePeerUrls.Single().Host, path);
            var mount = (YamlMappingNode)Sequence(container, "volumeMounts").Single();
            var claim = (YamlMappingNode)Sequence(spec, "volumeClaimTemplates").Single();
            Assert.AreEqual(Scalar(Map(claim, "metadata"), "name"), Scalar(mount, "name"), path);
            StringAssert.StartsWith(options.DataDir, Scalar(mount, "mountPath") + "/", path);
            Assert.AreEqual(MetricsPort.ToString(CultureInfo.InvariantCulture), Scalar(Map(Map(Map(spec, "template"), "metadata"), "annotations"), "prometheus.io/port"), path);
            members.Add(options);
        }
        AssertOneTunedCluster(members, ThreeRegions);
    }

    /// <summary>The metric names a PromQL expression reads: identifiers that are neither functions, keywords, label
    /// names (inside braces or by/without lists) nor durations.</summary>
    internal static IEnumerable<string> MetricNames(string expression)
    {
        var withoutLabels = LabelMatchers().Replace(expression, "");
        withoutLabels = Grouping().Replace(withoutLabels, "");
        withoutLabels = RangeSelector().Replace(withoutLabels, "");
        return Identifier().Matches(withoutLabels).Where(m => !withoutLabels[(m.Index + m.Length)..].TrimStart().StartsWith('('))
            .Select(m => m.Value).Where(name => name is not ("by" or "without" or "and" or "or" or "unless" or "on" or "ignoring" or "bool" or "offset"));
    }

    [TestMethod]
    public void MetricNames_ReadsOnlyMetricsFromPromQl()
    {
        CollectionAssert.AreEquivalent(
            new[] { "a_bucket", "b_total", "c" },
            MetricNames("histogram_quantile(0.99, sum by (le, path) (rate(a_bucket{job=~\"$job\",path=\"fast\"}[5m]))) / on (x) b_total - c offset 5m").ToList());
    }

    [TestMethod]
    public async Task GrafanaDashboard_QueriesOnlyMetricsARealMemberExports_AndPrometheusScrapesTheMetricsPort()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DeployPath("grafana", "curpstore-dashboard.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Select(p => (Title: p.GetProperty("title").GetString()!, Queries: p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!).ToList()))
            .ToList();
        Assert.HasCount(6, panels);

        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort, metricsPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"http://127.0.0.1:{clientPort}";
        harness.Start("m1", "--name", "m1", "--data-dir", Path.Combine(harness.Root, "m1.curpstore"),
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint, "--listen-metrics-urls", $"http://127.0.0.1:{metricsPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"m1=http://127.0.0.1:{peerPort}");
        using (var channel = new GrpcChannel(new Uri(endpoint)))
        {
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
            await ServerProcessHarness.PutAsync(channel, "k", "v", TimeSpan.FromSeconds(10)); // a commit and a WAL fsync: both histograms have series
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        var families = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
        var exported = families.Values.SelectMany(f => f.Samples.Select(s => s.Name).Append(f.Name)).ToHashSet(StringComparer.Ordinal);

        foreach (var (title, queries) in panels)
        {
            var names = queries.SelectMany(MetricNames).ToList();
            Assert.IsNotEmpty(names, title);
            foreach (var name in names)
            {
                Assert.Contains(name, exported, $"panel '{title}' queries {name}, which the member does not export");
            }
        }
        var read = panels.SelectMany(p => p.Queries).SelectMany(MetricNames).ToHashSet(StringComparer.Ordinal);
        foreach (var needed in new[] { "curpstore_fast_path_ratio", "curpstore_proposal_commit_duration_seconds_bucket", "curpstore_proposals_committed_total",
            "etcd_server_leader_changes_seen_total", "etcd_disk_wal_fsync_duration_seconds_bucket", "curpstore_apply_lag_entries" })
        {
            Assert.Contains(needed, read, "the dashboard has no panel reading " + needed);
        }

        var prometheus = Documents(DeployPath("prometheus", "prometheus.yml")).Single();
        var staticJob = Sequence(prometheus, "scrape_configs").Cast<YamlMappingNode>().Single(j => Scalar(j, "job_name") == "curpstore");
        var targets = Sequence(staticJob, "static_configs").Cast<YamlMappingNode>().SelectMany(c => Sequence(c, "targets").Cast<YamlScalarNode>()).Select(t => t.Value!).ToList();
        CollectionAssert.AreEquivalent(
            ThreeRegions.PlacementFor(3).Select(r => $"{r}.curpstore.example.net:{MetricsPort}").ToList(),
            targets.Select(SubstitutePlaceholders).ToList());
        Assert.AreEqual("/metrics", Scalar(staticJob, "metrics_path"));
    }

    [GeneratedRegex(@"<([a-z-]+)-host>")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\]]*\]|\boffset\s+\w+|\b\d+(\.\d+)?[smhdwy]?\b")]
    private static partial Regex RangeSelector();

    [GeneratedRegex(@"[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
