using CurpStore.Rpc;

namespace CurpStore.Server.Tests.Processes;

/// <summary>What every etcdctl script that compares CurpStore with Debian's etcd shares: one single-member process of
/// each with the same flags, the lines of etcdctl's own that are no server's answer, and the comparison of two
/// transcripts step by step (the 3-member scripts in Compat and Cluster use the last two).</summary>
internal static class EtcdctlComparison
{
    /// <summary>Starts a CurpStore process and an etcd, each alone in its cluster on free ports with
    /// <paramref name="extraFlags"/>, and waits until both lead. Returns their client endpoints.</summary>
    public static async Task<(string CurpStore, string Etcd)> StartBothAsync(ServerProcessHarness harness, params string[] extraFlags)
    {
        var curpStore = Start(harness, "curpstore", etcd: false, extraFlags);
        var etcd = Start(harness, "etcd", etcd: true, extraFlags);
        foreach (var endpoint in new[] { curpStore, etcd })
        {
            using var channel = new GrpcChannel(new Uri(endpoint));
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
        }
        return (curpStore, etcd);
    }

    /// <summary>Fails with every command whose transcript line differs, etcd's next to CurpStore's, and the CurpStore
    /// log.</summary>
    public static void AssertSame(IReadOnlyList<string[]> commands, IReadOnlyList<string> expected, IReadOnlyList<string> actual, ServerProcessHarness harness) =>
        AssertSame([.. commands.Select(c => $"etcdctl {string.Join(' ', c)}")], expected, actual, harness.Log("curpstore"));

    /// <summary>Fails with every step whose transcript entry differs: the step (<paramref name="steps"/>), etcd's entry
    /// next to CurpStore's, then <paramref name="context"/> (logs, the whole transcript).</summary>
    public static void AssertSame(IReadOnlyList<string> steps, IReadOnlyList<string> expected, IReadOnlyList<string> actual, string context)
    {
        Assert.AreEqual(steps.Count, expected.Count, "etcd's transcript has an entry per step");
        Assert.AreEqual(steps.Count, actual.Count, "CurpStore's transcript has an entry per step");
        var differences = Enumerable.Range(0, steps.Count)
            .Where(i => expected[i] != actual[i])
            .Select(i => $"{steps[i]}\n  etcd:      {Show(expected[i])}\n  CurpStore: {Show(actual[i])}")
            .ToList();
        Assert.AreEqual(0, differences.Count,
            $"{differences.Count} of {steps.Count} commands printed something else against CurpStore than against etcd:\n{string.Join('\n', differences)}\n{context}");
    }

    /// <summary>etcdctl's output without the JSON log lines its client writes on retries (they carry timestamps and
    /// are no server's answer).</summary>
    public static IEnumerable<string> WithoutClientLogLines(string output) =>
        output.Split('\n').Where(l => !l.StartsWith("{\"level\"", StringComparison.Ordinal));

    /// <summary>A transcript entry on one line, for failure messages.</summary>
    public static string Show(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

    /// <summary>Starts one single-member CurpStore or etcd on free ports; <paramref name="clientScheme"/> https needs
    /// the certificate flags in <paramref name="extraFlags"/>. Returns its client endpoint.</summary>
    public static string Start(ServerProcessHarness harness, string name, bool etcd, string[] extraFlags, string clientScheme = "http")
    {
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"{clientScheme}://127.0.0.1:{clientPort}";
        string[] flags =
        [
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"{(etcd ? name : "default")}=http://127.0.0.1:{peerPort}",
            .. extraFlags,
        ];
        if (etcd)
        {
            harness.StartEtcd(name, flags);
        }
        else
        {
            harness.Start(name, flags);
        }
        return endpoint;
    }
}
