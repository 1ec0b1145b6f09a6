using CurpStore.Server.Tests.Cluster;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Security;

/// <summary>
/// A 3-member CurpStore cluster of processes with TLS on both sides (<c>--client-cert-auth</c> and
/// <c>--peer-client-cert-auth</c>, certificates from <c>scripts/make-test-certs.sh</c>): Debian's etcdctl with the CA
/// and a client certificate reads what another member wrote; etcdctl without a certificate, with one of another CA or
/// over plain HTTP is refused; the .NET client with the certificate writes and reads; a 4th member added with MemberAdd whose peer certificate comes from another CA cannot
/// join, and the same member with a certificate of the cluster's CA then can.
/// </summary>
[TestClass]
public sealed class TlsClusterTests
{
    private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(120);

    [TestMethod]
    public async Task ThreeTlsMembers_ServeCertifiedClients_AndRefuseAPeerWithAForeignCertificate()
    {
        using var harness = new ServerProcessHarness();
        var certs = await TestCertificates.MakeAsync(harness);
        var ports = Enumerable.Range(0, 4).Select(_ => (Client: ServerProcessHarness.FreePort(), Peer: ServerProcessHarness.FreePort())).ToList();
        string Client(int i) => $"https://127.0.0.1:{ports[i].Client}";
        string Peer(int i) => $"https://127.0.0.1:{ports[i].Peer}";
        string[] MemberArgs(int i, string name, string dataDir, string certificate, int members, params string[] extra) =>
        [
            "--name", name, "--data-dir", Path.Combine(harness.Root, dataDir),
            "--listen-client-urls", Client(i), "--advertise-client-urls", Client(i),
            "--listen-peer-urls", Peer(i), "--initial-advertise-peer-urls", Peer(i),
            "--initial-cluster", string.Join(',', Enumerable.Range(0, members).Select(j => $"m{j + 1}={Peer(j)}")),
            .. certs.MemberFlags(certificate), .. extra,
        ];
        for (var i = 0; i < 3; i++)
        {
            harness.Start($"m{i + 1}", MemberArgs(i, $"m{i + 1}", $"m{i + 1}.curpstore", $"m{i + 1}", 3));
        }
        using (var channel = certs.Channel(Client(0)))
        {
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(60));
        }
        var root = certs.Etcdctl("client");

        // Certified clients are served, and what one member takes the others replicate over peer TLS.
        await ExpectAsync(Client(0), [.. root, "put", "tls-key", "v1"], "OK");
        await Wait.UntilAsync("m3 serves the write made on m1", TimeSpan.FromSeconds(30),
            async () => (await Etcdctl.RunAsync(Client(2), [.. root, "get", "tls-key", "--print-value-only"])).Output.Trim() == "v1",
            () => harness.Log("m3"));
        // The .NET client over TLS: its CURP proposer streams and reads go to the client URLs with the certificate.
        await using (var client = await CurpStore.Client.CurpClient.ConnectAsync([Client(0), Client(1), Client(2)], new CurpStore.Client.CurpClientOptions
        {
            DefaultTimeout = TimeSpan.FromSeconds(10),
            SslOptions = Rpc.ClientTls.FromPemFiles(certs.Ca, certs.File("client.crt"), certs.File("client.key")),
        }))
        {
            await client.PutAsync("dotnet-key", "v0");
            Assert.AreEqual("v0", (await client.GetAsync("dotnet-key")).Kvs.Single().ValueString);
        }
        var list = await Etcdctl.RunAsync(Client(1), [.. root, "member", "list"]);
        Assert.AreEqual(3, list.Output.Split('\n').Count(l => l.Contains("https://127.0.0.1:", StringComparison.Ordinal) && l.Contains("started", StringComparison.Ordinal)), list.Output);

        // Refused as etcd refuses them (its etcdctl prints the same): no client certificate, a certificate of another
        // CA, plain HTTP on a TLS port, and a server certificate the client does not trust.
        foreach (var args in new[]
        {
            new[] { "--cacert", certs.Ca, "get", "tls-key" },
            [.. certs.Etcdctl("rogue"), "get", "tls-key"],
            ["--cacert", certs.File("other-ca.crt"), "--cert", certs.File("client.crt"), "--key", certs.File("client.key"), "get", "tls-key"],
        })
        {
            var refused = await Etcdctl.RunAsync(Client(0), args);
            Assert.AreNotEqual(0, refused.ExitCode, refused.Output);
            StringAssert.Contains(refused.Output, "Error: context deadline exceeded", string.Join(' ', args));
            Assert.IsFalse(refused.Output.Contains("v1", StringComparison.Ordinal), refused.Output);
        }
        var plain = await Etcdctl.RunAsync($"http://127.0.0.1:{ports[0].Client}", ["get", "tls-key"]);
        Assert.AreNotEqual(0, plain.ExitCode, plain.Output);
        StringAssert.Contains(plain.Output, "Error: context deadline exceeded");

        // A 4th member with a peer certificate of another CA: added, started, never joins.
        var added = await Etcdctl.RunAsync(Client(0), [.. root, "member", "add", "m4", $"--peer-urls={Peer(3)}"]);
        Assert.AreEqual(0, added.ExitCode, added.Output);
        var rogue = harness.Start("m4-rogue", MemberArgs(3, "m4", "m4-rogue.curpstore", "rogue", 4, "--initial-cluster-state", "existing"));
        await ExpectAsync(Client(0), [.. root, "put", "while-rogue", "v2"], "OK");
        using (var exit = new CancellationTokenSource(JoinLimit))
        {
            await rogue.WaitForExitAsync(exit.Token); // it gives up after ServerProcess.JoinTimeout (30 s)
        }
        Assert.AreNotEqual(0, rogue.ExitCode, harness.Log("m4-rogue"));
        var rogueLog = harness.Log("m4-rogue");
        StringAssert.Contains(rogueLog, "could not retrieve cluster information", rogueLog);
        Assert.IsFalse(rogueLog.Contains("joining cluster", StringComparison.Ordinal), rogueLog);
        Assert.IsFalse(Directory.Exists(Path.Combine(harness.Root, "m4-rogue.curpstore", "wal")), "the refused member wrote a log");
        list = await Etcdctl.RunAsync(Client(1), [.. root, "member", "list"]);
        Assert.AreEqual(1, list.Output.Split('\n').Count(l => l.Contains("unstarted", StringComparison.Ordinal) && l.Contains(Peer(3), StringComparison.Ordinal)), list.Output);
        await ExpectAsync(Client(1), [.. root, "get", "while-rogue", "--print-value-only"], "v2");

        // The control: the same member with a certificate of the cluster's CA joins and receives the data.
        harness.Start("m4", MemberArgs(3, "m4", "m4.curpstore", "m4", 4, "--initial-cluster-state", "existing"));
        await Wait.UntilAsync("m4 (valid certificate) serves the cluster's data", JoinLimit,
            async () => (await Etcdctl.RunAsync(Client(3), [.. root, "get", "while-rogue", "--print-value-only", "--consistency=s"])).Output.Trim() == "v2",
            () => harness.Log("m4"));
        StringAssert.Contains(harness.Log("m4"), "joining cluster");
    }

    private static async Task ExpectAsync(string endpoint, string[] args, string expected)
    {
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, args);
        Assert.AreEqual(0, exitCode, output);
        Assert.AreEqual(expected, output.Trim(), string.Join(' ', args));
    }
}
