using CurpStore.Bench.Load;

namespace CurpStore.Server.Tests.Processes;

[TestClass]
public sealed class LoadToolTests
{
    [TestMethod]
    [DataRow("missing the load kind")]
    [DataRow("unknown load kind \"write\"", "write", "--endpoints", "http://127.0.0.1:2379")]
    [DataRow("--endpoints is required", "put")]
    [DataRow("--clients must be a whole number from 1 to 100000", "put", "--endpoints", "http://127.0.0.1:2379", "--clients", "0")]
    [DataRow("--conflict must be between 0 and 1", "put", "--endpoints", "http://127.0.0.1:2379", "--conflict", "2")]
    [DataRow("--rate needs --seconds", "put", "--endpoints", "http://127.0.0.1:2379", "--rate", "1000")]
    [DataRow("--max-outstanding must be a whole number from 1 to 1000000", "put", "--endpoints", "http://127.0.0.1:2379", "--max-outstanding", "0")]
    public void BadOptions_AreRefusedWithAMessage(string expected, params string[] args)
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => LoadOptions.Parse(args));
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    [DataRow("put", "curp")]
    [DataRow("mixed", "curp")]
    [DataRow("put", "curp-client")]
    public async Task AgainstARealServer_EveryRequestSucceeds_AndTheCsvLineIsWritten(string kind, string target)
    {
        using var harness = new ServerProcessHarness();
        var clientPort = await StartMemberAsync(harness);
        var csv = Path.Combine(harness.Root, "load.csv");
        var options = LoadOptions.Parse([kind, "--endpoints", $"http://127.0.0.1:{clientPort}", "--clients", "8", "--total", "400", "--conflict", "0.2", "--csv", csv, "--target", target]);
        var result = await LoadRunner.RunAsync(options);
        Assert.AreEqual(400, result.Succeeded, result.Summary());
        Assert.AreEqual(0, result.Failed);
        Assert.AreEqual(400, result.SortedLatenciesMs.Length);
        Assert.IsTrue(result.Percentile(50) <= result.Percentile(99));
        var lines = File.ReadAllLines(csv);
        Assert.AreEqual(LoadResult.CsvHeader, lines[0]);
        StringAssert.StartsWith(lines[1], $"{target},{kind},8,400,0,");
        if (target == LoadOptions.CurpClientTarget)
        {
            // Every put reports its path; alone, a member's own durable copy is a majority: commit notice.
            Assert.AreEqual(400, result.PathCounts!.Sum(), result.Summary());
            StringAssert.EndsWith(lines[1], ",0,400,0,,0,0,", "no offered rate, refusals or memory sample in a closed loop");
        }
        else
        {
            // Through etcd's API the member names each write's path in the curp-commit-path trailer; reads have none.
            var paths = result.PathCounts ?? throw new AssertFailedException("no commit paths counted: " + result.Summary());
            Assert.IsTrue(kind == "put" ? paths.Sum() == 400 : paths.Sum() is > 0 and < 400, result.Summary());
            StringAssert.EndsWith(lines[1], $",{paths[0]},{paths[1]},{paths[2]},,0,0,");
        }
    }

    [TestMethod]
    public async Task Sequential_WritesEveryKeyOfTheKeySpaceExactlyOnce()
    {
        using var harness = new ServerProcessHarness();
        var clientPort = await StartMemberAsync(harness);
        var options = LoadOptions.Parse(["put", "--endpoints", $"http://127.0.0.1:{clientPort}", "--clients", "8", "--total", "300", "--key-space", "300", "--sequential"]);
        var result = await LoadRunner.RunAsync(options);
        Assert.AreEqual(300, result.Succeeded, result.Summary());
        using var channel = new Rpc.GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}"));
        var range = await channel.UnaryAsync(Rpc.Etcd.KVMethods.Range, new Rpc.Etcd.EtcdServerPb.RangeRequest
        {
            Key = Google.Protobuf.ByteString.CopyFromUtf8("bench/"),
            RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("bench0"),
            CountOnly = true,
        });
        Assert.AreEqual(300, range.Count, "300 distinct keys");
        Assert.AreEqual(301, range.Header.Revision, "one revision per put, none twice");
    }

    private static async Task<int> StartMemberAsync(ServerProcessHarness harness)
    {
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        harness.Start("member",
            "--listen-client-urls", $"http://127.0.0.1:{clientPort}", "--advertise-client-urls", $"http://127.0.0.1:{clientPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"default=http://127.0.0.1:{peerPort}");
        using var channel = new Rpc.GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}"));
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
        return clientPort;
    }
}
