using CurpStore.Rpc;

namespace CurpStore.Server.Tests.Processes;

/// <summary>What the etcdctl scripts that compare CurpStore with Debian's etcd share: one single-member process of each
/// with the same flags, and the comparison of their transcripts command by command.</summary>
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
    public static void AssertSame(IReadOnlyList<string[]> commands, IReadOnlyList<string> expected, IReadOnlyList<string> actual, ServerProcessHarness harness)
    {
        var differences = Enumerable.Range(0, commands.Count)
            .Where(i => expected[i] != actual[i])
            .Select(i => $"etcdctl {string.Join(' ', commands[i])}\n  etcd:      {Show(expected[i])}\n  CurpStore: {Show(actual[i])}")
            .ToList();
        Assert.AreEqual(0, differences.Count, $"{differences.Count} commands printed something else than against etcd:\n{string.Join('\n', differences)}\n{harness.Log("curpstore")}");
    }

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

    private static string Show(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
