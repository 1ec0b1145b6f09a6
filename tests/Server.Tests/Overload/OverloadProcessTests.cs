using CurpStore.Bench.Load;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Facade;
using CurpStore.Server.Tests.Processes;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Overload;

/// <summary>
/// A member process under overload: the load tool's open loop offers far more puts than a member on this machine
/// commits (README "Overload"), with 64 clients x 128 unanswered = 8,192 requests in flight against the default bound of
/// 256 writes in flight (<see cref="Configuration.ServerOptions.MaxWritesInFlight"/>) plus
/// <see cref="WriteAdmission.WaitingPerPlace"/> times as many waiting for a place (4,352 in all), so that the excess is
/// certain to be refused. The member must refuse it with
/// etcd's RESOURCE_EXHAUSTED "etcdserver: too many requests" and nothing else, keep every put it acknowledged (and none
/// it refused), keep serving, and stay under the README's memory bound for the revisions it then holds.
/// </summary>
[TestClass]
public sealed class OverloadProcessTests
{
    /// <summary>The bound README "Overload" states for a member under this load (256-byte values): a base, in MiB ...</summary>
    public const int PeakRssBaseMiB = 650;

    /// <summary>... plus this much per million revisions the store keeps (history is kept until a compaction).</summary>
    public const int PeakRssPerMillionRevisionsMiB = 150;

    /// <summary>The bound for a store holding <paramref name="revisions"/> revisions, in KiB.</summary>
    public static long PeakRssBoundKb(long revisions) => (PeakRssBaseMiB * 1024L) + (PeakRssPerMillionRevisionsMiB * 1024L * revisions / 1_000_000);

    [TestMethod]
    public async Task TenfoldOverload_RefusesWithTooManyRequests_KeepsEveryAcknowledgedPut_AndStaysUnderTheMemoryBound()
    {
        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"http://127.0.0.1:{clientPort}";
        var member = harness.Start("m1",
            "--name", "m1", "--data-dir", Path.Combine(harness.Root, "m1.curpstore"),
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"m1=http://127.0.0.1:{peerPort}");
        using var channel = new GrpcChannel(new Uri(endpoint));
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60));

        // Sequential keys: every put the tool sends has a key of its own, so the keys present count the puts applied.
        var options = LoadOptions.Parse([
            "put", "--endpoints", endpoint, "--clients", "64", "--seconds", "10", "--rate", "20000", "--max-outstanding", "128",
            "--key-space", "100000000", "--sequential", "--value-size", "256", "--member-pids", member.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var result = await LoadRunner.RunAsync(options);
        var summary = result.Summary();
        Console.WriteLine(summary);

        Assert.IsGreaterThan(0, result.TooManyRequests, $"some puts must be refused for load: {summary}");
        Assert.AreEqual(result.Failed, result.TooManyRequests + result.NotSent, $"no error but \"too many requests\": {summary}");
        Assert.IsGreaterThan(0, result.Succeeded, summary);
        Assert.IsFalse(member.HasExited, harness.Log("m1"));

        // Afterwards the member serves, and holds exactly the puts it acknowledged: none lost, none it refused.
        var after = await ServerProcessHarness.PutAsync(channel, "after/overload", "ok", TimeSpan.FromSeconds(30));
        Assert.IsGreaterThan(1L, after.Header.Revision);
        var applied = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest
        {
            Key = ByteString.CopyFromUtf8("bench/"),
            RangeEnd = ByteString.CopyFromUtf8("bench0"),
            CountOnly = true,
        }, new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(30)));
        Assert.AreEqual(result.Succeeded, applied.Count, summary);

        Assert.IsNotNull(result.PeakRssKb, "the member's memory was sampled");
        var boundKb = PeakRssBoundKb(after.Header.Revision);
        Assert.IsLessThan(boundKb, result.PeakRssKb.Value, $"peak RSS {result.PeakRssKb / 1024} MiB, bound {boundKb / 1024} MiB at revision {after.Header.Revision}: {summary}");
    }
}
