using System.Diagnostics;

namespace CurpStore.Server.Tests.Processes;

/// <summary>The README's first command: the server with no flags at all, answering Debian's etcdctl (grpc-go).</summary>
[TestClass]
public sealed class ReadmeCommandTests
{
    private static (int ExitCode, string Output) Etcdctl(params string[] args)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add("--endpoints=http://127.0.0.1:2379");
        info.ArgumentList.Add("--command-timeout=10s");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("etcdctl is missing: apt-get install -y etcd-client");
            throw;
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(30_000), "etcdctl hung");
            return (process.ExitCode, output);
        }
    }

    [TestMethod]
    public async Task TheServerWithNoFlags_AnswersEtcdctlPutAndGet()
    {
        using var harness = new ServerProcessHarness();
        harness.Start("member");
        using var channel = new Rpc.GrpcChannel(new Uri("http://127.0.0.1:2379"));
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));

        var put = Etcdctl("put", "greeting", "hello from etcdctl");
        Assert.AreEqual(0, put.ExitCode, put.Output);
        StringAssert.Contains(put.Output, "OK");
        var get = Etcdctl("get", "greeting");
        Assert.AreEqual(0, get.ExitCode, get.Output);
        Assert.AreEqual("greeting\nhello from etcdctl\n", get.Output);
        var json = Etcdctl("get", "greeting", "-w", "json");
        StringAssert.Contains(json.Output, "\"cluster_id\"");
        StringAssert.Contains(json.Output, "\"raft_term\"");
        Assert.IsTrue(Directory.Exists(Path.Combine(harness.Root, "default.curpstore")), "the default data dir is default.curpstore");
    }
}
