using CurpStore.Rpc;

namespace CurpStore.Server.Tests.Processes;

/// <summary>One real server process on a real disk.</summary>
[TestClass]
public sealed class SingleMemberProcessTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private static string[] Flags(int clientPort, int peerPort) =>
    [
        "--listen-client-urls", $"http://127.0.0.1:{clientPort}", "--advertise-client-urls", $"http://127.0.0.1:{clientPort}",
        "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
        "--initial-cluster", $"default=http://127.0.0.1:{peerPort}",
    ];

    [TestMethod]
    public async Task KilledAtRandomPointsUnderWriteLoad_EveryAcknowledgedWriteSurvivesWithItsRevision()
    {
        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var acknowledged = new Dictionary<string, (string Value, long Revision)>();
        var random = new Random(20261121);
        long lastRevision = 0;
        for (var round = 0; round < 6; round++)
        {
            var process = harness.Start("member", Flags(clientPort, peerPort));
            using var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}"));
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));

            // Everything acknowledged before the last kill is still there, at its revision.
            foreach (var (key, (value, revision)) in acknowledged)
            {
                var read = await ServerProcessHarness.GetAsync(channel, key, CallTimeout);
                Assert.AreEqual(1, read.Kvs.Count, $"round {round}: acknowledged key {key} is missing\n{harness.Log("member")}");
                Assert.AreEqual(value, ServerProcessHarness.Text(read.Kvs[0].Value));
                Assert.AreEqual(revision, read.Kvs[0].ModRevision, $"round {round}: {key} changed revision");
            }

            // A write load from several concurrent writers, killed at a random moment.
            using var stopWriting = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
            {
                var mine = new List<(string, string, long)>();
                for (var i = 0; !stopWriting.IsCancellationRequested && i < 10_000; i++)
                {
                    var key = $"r{round}/w{writer}/{i}";
                    try
                    {
                        var put = await ServerProcessHarness.PutAsync(channel, key, $"v{i}", CallTimeout);
                        mine.Add((key, $"v{i}", put.Header.Revision));
                    }
                    catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException or IOException)
                    {
                        break; // the process died under the call: its outcome is unknown, not acknowledged
                    }
                }
                return mine;
            })).ToList();
            await Task.Delay(200 + random.Next(800));
            ServerProcessHarness.Kill9(process);
            stopWriting.Cancel();
            foreach (var writer in writers)
            {
                foreach (var (key, value, revision) in await writer)
                {
                    acknowledged[key] = (value, revision);
                    lastRevision = Math.Max(lastRevision, revision);
                }
            }
        }
        Assert.IsTrue(acknowledged.Count > 100, $"only {acknowledged.Count} writes were acknowledged across the rounds");

        // Revisions never go backwards: after the last restart the store's revision is at least every answered one.
        harness.Start("member", Flags(clientPort, peerPort));
        using var final = new GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}"));
        await ServerProcessHarness.WaitForLeaderAsync(final, TimeSpan.FromSeconds(30));
        var all = await ServerProcessHarness.GetAsync(final, "r", CallTimeout, rangeEnd: "s");
        Assert.IsTrue(all.Header.Revision >= lastRevision, $"revision went backwards: {all.Header.Revision} < {lastRevision}");
        Assert.IsTrue(all.Kvs.Count >= acknowledged.Count, $"{all.Kvs.Count} keys after the crashes, {acknowledged.Count} acknowledged");
    }

    [TestMethod]
    public async Task Sigterm_FlushesAndExitsCleanly_AndASecondStartRecovers()
    {
        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var process = harness.Start("member", Flags(clientPort, peerPort));
        using (var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}")))
        {
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
            await ServerProcessHarness.PutAsync(channel, "kept", "yes", CallTimeout);
        }
        System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.IsTrue(process.WaitForExit(15_000), "the server did not exit on SIGTERM");
        process.WaitForExit(); // also drains the redirected output into the log
        Assert.AreEqual(0, process.ExitCode);
        StringAssert.Contains(harness.Log("member"), "stopped");

        harness.Start("member", Flags(clientPort, peerPort));
        using var again = new GrpcChannel(new Uri($"http://127.0.0.1:{clientPort}"));
        await ServerProcessHarness.WaitForLeaderAsync(again, TimeSpan.FromSeconds(30));
        var read = await ServerProcessHarness.GetAsync(again, "kept", CallTimeout);
        Assert.AreEqual("yes", ServerProcessHarness.Text(read.Kvs.Single().Value));
    }

    [TestMethod]
    public void VersionAndBadFlags_AnswerWithoutStartingAServer()
    {
        using var harness = new ServerProcessHarness();
        var version = harness.Start("version", "--version");
        Assert.IsTrue(version.WaitForExit(30_000));
        version.WaitForExit();
        Assert.AreEqual(0, version.ExitCode);
        StringAssert.Contains(harness.Log("version"), "etcd API Version: 3.5.0");
        var bad = harness.Start("bad", "--heartbeat-interval", "500");
        Assert.IsTrue(bad.WaitForExit(30_000));
        bad.WaitForExit();
        Assert.AreEqual(2, bad.ExitCode);
        StringAssert.Contains(harness.Log("bad"), "should be at least as 5 times as --heartbeat-interval");
    }
}
