using System.Diagnostics;
using CurpStore.Rpc;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Processes;

/// <summary>A 3-member cluster of real processes, started and stopped by <c>deploy/local-cluster.sh</c>.</summary>
[TestClass]
public sealed class ClusterProcessTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CurpStore.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("CurpStore.sln not found above the test assembly");
    }

    private static string Script(string stateDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot() };
        info.Environment["CURPSTORE_SERVER_DLL"] = ServerProcessHarness.ServerDll; // the server built with these tests
        info.ArgumentList.Add(Path.Combine(RepositoryRoot(), "deploy", "local-cluster.sh"));
        info.ArgumentList.Add(args[0]);
        info.ArgumentList.Add("--state-dir"); // before any "--": what follows that goes to the servers
        info.ArgumentList.Add(stateDirectory);
        foreach (var arg in args.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(300_000), "local-cluster.sh hung");
        Assert.AreEqual(0, process.ExitCode, output);
        return output;
    }

    /// <summary>A base port whose six ports (clients and peers of three members) are free right now.</summary>
    private static int FreeBasePort()
    {
        var random = new Random();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var basePort = 40_000 + (random.Next(2_000) * 10);
            if (new[] { 0, 1, 10, 11, 20, 21 }.All(offset => IsFree(basePort + offset)))
            {
                return basePort;
            }
        }
        throw new InvalidOperationException("no free port range");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    [TestMethod]
    public async Task LeaderKilledUnderLoad_ANewLeaderServes_NothingAcknowledgedIsLost_AndRestartedMembersCatchUp()
    {
        var state = Directory.CreateTempSubdirectory("curpstore-cluster").FullName;
        var basePort = FreeBasePort();
        Script(state, "start", "3", "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--", "--snapshot-count", "200");
        var channels = Enumerable.Range(0, 3).Select(i => new GrpcChannel(new Uri($"http://127.0.0.1:{basePort + (10 * i)}"))).ToArray();
        try
        {
            var statuses = new List<Pb.StatusResponse>();
            foreach (var channel in channels)
            {
                statuses.Add(await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60)));
            }
            var memberIds = statuses.Select(s => s.Header.MemberId).ToArray();
            var clock = Stopwatch.StartNew();
            void Phase(string name) => Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {name}");
            int PidOf(int member) => int.Parse(File.ReadAllLines(Path.Combine(state, "pids"))[member], System.Globalization.CultureInfo.InvariantCulture);
            var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
            var alive = new[] { true, true, true };

            async Task<int> WriteAsync(string prefix, int count)
            {
                var written = 0;
                for (var i = 0; i < count; i++)
                {
                    for (var attempt = 0; attempt < 40; attempt++)
                    {
                        var member = (i + attempt) % 3;
                        if (!alive[member])
                        {
                            continue;
                        }
                        try
                        {
                            await ServerProcessHarness.PutAsync(channels[member], $"{prefix}/{i}", $"v{i}", CallTimeout);
                            acknowledged[$"{prefix}/{i}"] = $"v{i}";
                            written++;
                            break;
                        }
                        catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException or IOException)
                        {
                            await Task.Delay(100); // no leader yet, or this member is down: its outcome is unknown
                        }
                    }
                }
                return written;
            }

            // A follower misses a few writes and catches up from the log.
            var follower = Array.FindIndex(memberIds, id => id != statuses[0].Leader);
            Process.GetProcessById(PidOf(follower)).Kill();
            alive[follower] = false;
            Assert.AreEqual(10, await WriteAsync("a", 10));
            Phase("10 writes with a follower down");
            Script(state, "start-member", (follower + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            alive[follower] = true;
            await WaitUntilHoldsAsync(channels[follower], acknowledged, MemberLog(state, follower));
            Phase("the follower caught up from the log");

            // The leader is killed while three writers keep going; a new leader takes over.
            var leaderId = (await ServerProcessHarness.WaitForLeaderAsync(channels[0], TimeSpan.FromSeconds(30))).Leader;
            var leader = Array.IndexOf(memberIds, leaderId);
            var load = Enumerable.Range(0, 3).Select(w => WriteAsync($"b{w}", 150)).ToList();
            await Task.Delay(500);
            Process.GetProcessById(PidOf(leader)).Kill();
            alive[leader] = false;
            var written = (await Task.WhenAll(load)).Sum();
            Phase($"{written} writes around the leader's death");
            Assert.IsTrue(written >= 400, $"only {written} of 450 writes succeeded around the leader's death");
            var survivor = channels[(leader + 1) % 3];
            var newLeader = (await ServerProcessHarness.WaitForLeaderAsync(survivor, TimeSpan.FromSeconds(30))).Leader;
            Assert.AreNotEqual(leaderId, newLeader);

            // Every acknowledged write is on the survivors; the old leader restarts far behind the compacted log and
            // catches up by snapshot.
            foreach (var member in Enumerable.Range(0, 3).Where(m => alive[m]))
            {
                await WaitUntilHoldsAsync(channels[member], acknowledged, MemberLog(state, member));
            }
            Phase("the survivors hold every acknowledged write");
            Script(state, "start-member", (leader + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            alive[leader] = true;
            await WaitUntilHoldsAsync(channels[leader], acknowledged, MemberLog(state, leader));
            Phase("the old leader caught up");
            // The member logs the install at the end of its loop turn, after the data is readable: wait for the line.
            var oldLeaderLog = MemberLog(state, leader);
            for (var attempt = 0; attempt < 100 && !File.ReadAllText(oldLeaderLog).Contains("installed a snapshot", StringComparison.Ordinal); attempt++)
            {
                await Task.Delay(100);
            }
            StringAssert.Contains(File.ReadAllText(oldLeaderLog), "installed a snapshot");
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
            Script(state, "stop");
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Waits (bounded) until a member's own copy, read serializably, holds every acknowledged write.</summary>
    /// <summary>The path of member <paramref name="member"/>'s (0-based) log in the local-cluster script's state dir.</summary>
    private static string MemberLog(string stateDirectory, int member) => Path.Combine(stateDirectory, $"m{member + 1}.log");

    /// <summary>The last lines of a member's log, for a failure message.</summary>
    private static string LogTail(string logPath, int lines = 40) =>
        File.Exists(logPath) ? string.Join('\n', File.ReadLines(logPath).TakeLast(lines)) : $"(no log at {logPath})";

    internal static async Task WaitUntilHoldsAsync(GrpcChannel channel, IReadOnlyDictionary<string, string> acknowledged, string? memberLogPath = null)
    {
        var missing = acknowledged.Count;
        Exception? lastError = null;
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                var all = await channel.UnaryAsync(CurpStore.Rpc.Etcd.KVMethods.Range, new Pb.RangeRequest
                {
                    Key = ByteString.CopyFromUtf8("\0"),
                    RangeEnd = ByteString.CopyFrom(0),
                    Serializable = true,
                }, new CallOptions(Deadline: DateTime.UtcNow + CallTimeout));
                var held = all.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8());
                missing = acknowledged.Count(pair => !held.TryGetValue(pair.Key, out var value) || value != pair.Value);
                if (missing == 0)
                {
                    return;
                }
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException or IOException)
            {
                lastError = e; // still starting
            }
            await Task.Delay(100);
        }
        Assert.Fail($"{missing} acknowledged writes are missing on a member after 30 s; last error: {lastError?.Message ?? "none"}\n{(memberLogPath is null ? "" : LogTail(memberLogPath))}");
    }

    [TestMethod]
    public async Task DotNetClient_LeaderKilled9_WhileItWrites_ANewLeaderServes_AndEveryAcknowledgedWriteKeepsItsRevision()
    {
        var state = Directory.CreateTempSubdirectory("curpstore-cluster").FullName;
        var basePort = FreeBasePort();
        Script(state, "start", "3", "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var endpoints = Enumerable.Range(0, 3).Select(i => $"http://127.0.0.1:{basePort + (10 * i)}").ToArray();
        try
        {
            string leaderEndpoint;
            ulong leaderId;
            using (var channel = new GrpcChannel(new Uri(endpoints[0])))
            {
                var status = await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60));
                var ids = new List<ulong>();
                foreach (var endpoint in endpoints)
                {
                    using var member = new GrpcChannel(new Uri(endpoint));
                    ids.Add((await ServerProcessHarness.WaitForLeaderAsync(member, TimeSpan.FromSeconds(60))).Header.MemberId);
                }
                leaderId = status.Leader;
                leaderEndpoint = endpoints[ids.IndexOf(status.Leader)];
            }
            var leaderPid = int.Parse(File.ReadAllLines(Path.Combine(state, "pids"))[Array.IndexOf(endpoints, leaderEndpoint)], System.Globalization.CultureInfo.InvariantCulture);
            await using var client = await Client.CurpClient.ConnectAsync(endpoints, new Client.CurpClientOptions { DefaultTimeout = TimeSpan.FromSeconds(10) });
            var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
            var failures = 0;
            var killed = false;

            async Task WriterAsync(int writer)
            {
                for (var i = 0; i < 150; i++)
                {
                    var key = $"w{writer}/{i}";
                    try
                    {
                        acknowledged[key] = (await client.PutAsync(key, $"v{i}")).Revision;
                    }
                    catch (Exception e) when (e is Client.EtcdException or OperationCanceledException or TimeoutException)
                    {
                        Interlocked.Increment(ref failures); // outcome unknown: not counted as acknowledged
                    }
                    if (writer == 0 && i == 30 && !killed)
                    {
                        killed = true;
                        Process.GetProcessById(leaderPid).Kill(); // SIGKILL while the other writers keep going
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, 3).Select(WriterAsync));
            Assert.IsTrue(killed);
            Assert.IsTrue(acknowledged.Count >= 400, $"only {acknowledged.Count} of 450 writes were acknowledged ({failures} failed)");
            using (var survivor = new GrpcChannel(new Uri(endpoints.First(e => e != leaderEndpoint))))
            {
                var newLeader = (await ServerProcessHarness.WaitForLeaderAsync(survivor, TimeSpan.FromSeconds(30))).Leader;
                Assert.AreNotEqual(leaderId, newLeader, "the killed leader cannot still lead");
            }

            // Every acknowledged write is there, with the revision its put reported.
            foreach (var (key, revision) in acknowledged)
            {
                var got = await client.GetAsync(key);
                Assert.AreEqual(1, got.Kvs.Count, $"{key} is lost");
                Assert.AreEqual(revision, got.Kvs[0].ModRevision, $"{key} has another revision than the one acknowledged");
            }
        }
        finally
        {
            Script(state, "stop");
            Directory.Delete(state, recursive: true);
        }
    }
}
