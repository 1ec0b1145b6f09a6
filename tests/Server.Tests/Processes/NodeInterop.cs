using System.Diagnostics;
using System.Text.Json;

namespace CurpStore.Server.Tests.Processes;

/// <summary>Runs one of the Node interop clients (tests/Rpc.Tests/interop, the npm package etcd3 over grpc-js) to its
/// end, bounded in time, and returns the JSON line it printed last. A missing etcd3 package fails with the install
/// command.</summary>
internal static class NodeInterop
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public static async Task<JsonDocument> RunAsync(string script, params string[] args)
    {
        var interop = Path.Combine(ClusterProcessTests.RepositoryRoot(), "tests", "Rpc.Tests", "interop");
        if (!File.Exists(Path.Combine(interop, "node_modules", "etcd3", "package.json")))
        {
            Assert.Fail($"the npm package etcd3 is not installed in {interop}; install it with: npm ci --prefix tests/Rpc.Tests/interop");
        }
        var info = new ProcessStartInfo("node") { WorkingDirectory = interop, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var node = Process.Start(info)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(RunTimeout))
        {
            try
            {
                await node.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Etcdctl.Kill(node);
                Assert.Fail($"the node client {script} did not finish within {RunTimeout}");
            }
        }
        var output = await stdout;
        Assert.AreEqual(0, node.ExitCode, output + await stderr);
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]);
    }
}
