using System.Globalization;
using System.Text.Json;

namespace CurpStore.Rpc.Tests;

/// <summary>
/// Real gRPC peers against our server: etcdctl (grpc-go) and the Node etcd3 package (@grpc/grpc-js), talking to the
/// generated etcd messages through our framing. A missing tool fails the test with its install command; it never skips.
/// </summary>
[TestClass]
public sealed class InteropTests
{
    private static readonly TimeSpan ToolLimit = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task Etcdctl_PutGetAndEndpointStatus_ThroughGrpcGo()
    {
        string etcdctl = ExternalProcess.Require("etcdctl", "apt-get install -y etcd-client");
        var etcd = new InMemoryEtcd();
        await using TestHost host = await TestHost.StartAsync(etcd.Register);
        string endpoint = $"http://127.0.0.1:{host.Address.Port}";
        var environment = new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };
        string[] common = ["--endpoints", endpoint, "--dial-timeout", "5s", "--command-timeout", "10s"];

        (int putExit, string putOutput) = await ExternalProcess.RunAsync(etcdctl, [.. common, "put", "greeting", "hello from grpc-go"], ToolLimit, environment: environment);
        (int getExit, string getOutput) = await ExternalProcess.RunAsync(etcdctl, [.. common, "get", "greeting"], ToolLimit, environment: environment);
        (int missingExit, string missingOutput) = await ExternalProcess.RunAsync(etcdctl, [.. common, "get", "absent"], ToolLimit, environment: environment);
        (int statusExit, string statusOutput) = await ExternalProcess.RunAsync(etcdctl, [.. common, "endpoint", "status", "-w", "json"], ToolLimit, environment: environment);

        Assert.AreEqual(0, putExit, putOutput);
        Assert.AreEqual("OK", putOutput.Trim());
        Assert.AreEqual(0, getExit, getOutput);
        CollectionAssert.AreEqual(new[] { "greeting", "hello from grpc-go" }, getOutput.Trim().Split('\n'));
        Assert.AreEqual(0, missingExit, missingOutput);
        Assert.AreEqual(string.Empty, missingOutput.Trim());
        Assert.AreEqual(0, statusExit, statusOutput);
        using JsonDocument status = JsonDocument.Parse(statusOutput);
        JsonElement reported = status.RootElement[0].GetProperty("Status");
        Assert.AreEqual(InMemoryEtcd.Version, reported.GetProperty("version").GetString());
        Assert.AreEqual(InMemoryEtcd.MemberId, reported.GetProperty("header").GetProperty("member_id").GetUInt64());
        Assert.AreEqual(InMemoryEtcd.MemberId, reported.GetProperty("leader").GetUInt64());
    }

    [TestMethod]
    public async Task Etcdctl_EndpointStatusTable_ShowsOurMember()
    {
        string etcdctl = ExternalProcess.Require("etcdctl", "apt-get install -y etcd-client");
        var etcd = new InMemoryEtcd();
        await using TestHost host = await TestHost.StartAsync(etcd.Register);

        (int exit, string output) = await ExternalProcess.RunAsync(
            etcdctl,
            ["--endpoints", $"http://127.0.0.1:{host.Address.Port}", "--dial-timeout", "5s", "endpoint", "status"],
            ToolLimit,
            environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });

        Assert.AreEqual(0, exit, output);
        StringAssert.Contains(output, InMemoryEtcd.MemberId.ToString("x", CultureInfo.InvariantCulture));
        StringAssert.Contains(output, InMemoryEtcd.Version);
    }

    [TestMethod]
    public async Task NodeEtcd3_PutAndGet_ThroughGrpcJs()
    {
        string node = ExternalProcess.Require("node", "apt-get install -y nodejs npm");
        string interop = Path.Combine(ExternalProcess.ProjectDirectory, "interop");
        if (!File.Exists(Path.Combine(interop, "node_modules", "etcd3", "package.json")))
        {
            Assert.Fail($"the npm package etcd3 is not installed in {interop}; install it with: npm ci --prefix tests/Rpc.Tests/interop");
        }

        var etcd = new InMemoryEtcd();
        await using TestHost host = await TestHost.StartAsync(etcd.Register);

        (int exit, string output) = await ExternalProcess.RunAsync(
            node, ["etcd3-put-get.js", $"http://127.0.0.1:{host.Address.Port}", "node-key", "hello from grpc-js"], ToolLimit, interop);

        Assert.AreEqual(0, exit, output);
        using JsonDocument result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.AreEqual("hello from grpc-js", result.RootElement.GetProperty("read").GetString());
        Assert.AreEqual(JsonValueKind.Null, result.RootElement.GetProperty("missing").ValueKind);
    }
}
