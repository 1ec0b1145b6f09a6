using System.Text.RegularExpressions;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Security;

/// <summary>
/// One script of Debian's etcdctl (3.4) run against Debian's etcd and against a CurpStore process, both serving TLS with
/// <c>--client-cert-auth</c>: with auth on and no token, the client certificate's common name is the user (CN root,
/// CN alice), as etcd does. A user whose role grants [a, b) only can read, write, watch, lease-attach, txn, lock inside
/// it and cannot outside (nor txn when any branch or compare leaves it, nor lock or campaign outside); Maintenance's
/// root-only calls (defrag, snapshot, hashkv) refuse it with etcd's "auth: permission denied" while alarm and status
/// answer; a token (<c>--user</c>) wins over the certificate. Every command must print the same on both.
/// </summary>
[TestClass]
public sealed partial class PermissionEtcdctlTests
{
    private const string Root = "ROOT";
    private const string Alice = "ALICE";

    /// <summary>Who runs the command (the certificate shown) and its arguments. LEASE is the lease granted in the
    /// script, SNAPSHOT a file path of the run.</summary>
    private static readonly (string As, string[] Args, string? Stdin)[] Script =
    [
        (Root, ["user", "add", "root:rootpw"], null),
        (Root, ["auth", "enable"], null),
        (Root, ["user", "add", "alice:alicepw"], null),
        (Root, ["role", "add", "ab"], null),
        (Root, ["role", "grant-permission", "ab", "readwrite", "a", "b"], null),
        (Root, ["user", "grant-role", "alice", "ab"], null),
        (Root, ["put", "b1", "root-wrote"], null),
        (Alice, ["put", "a1", "1"], null),
        (Alice, ["get", "a1"], null),
        (Alice, ["get", "a", "--prefix"], null),
        (Alice, ["put", "b1", "1"], null),
        (Alice, ["get", "b1"], null),
        (Alice, ["get", "a", "--from-key"], null),
        (Alice, ["del", "b1"], null),
        (Alice, ["watch", "b1"], null),
        (Alice, ["watch", "a", "--from-key"], null),
        (Root, ["lease", "grant", "100"], null),
        (Alice, ["put", "a2", "v", "--lease=LEASE"], null),
        (Alice, ["put", "b2", "v", "--lease=LEASE"], null),
        (Alice, ["get", "a2"], null),
        (Root, ["put", "c1", "v", "--lease=LEASE"], null),
        (Alice, ["lease", "revoke", "LEASE"], null),
        (Alice, ["txn"], "value(\"a1\") = \"1\"\n\nput a3 1\n\nput b3 1\n\n"),
        (Alice, ["txn"], "value(\"b1\") = \"root-wrote\"\n\nput a3 1\n\n\n"),
        (Alice, ["txn"], "value(\"a1\") = \"1\"\n\nput a3 1\n\nget a1\n\n"),
        (Alice, ["get", "a3"], null),
        (Alice, ["lock", "a-lock", "echo", "locked"], null),
        (Alice, ["lock", "b-lock", "echo", "locked"], null),
        (Alice, ["elect", "b-elect", "v"], null),
        (Alice, ["defrag"], null),
        (Alice, ["snapshot", "save", "SNAPSHOT"], null),
        (Alice, ["endpoint", "hashkv"], null),
        (Alice, ["alarm", "list"], null),
        (Alice, ["alarm", "disarm"], null),
        (Alice, ["user", "list"], null),
        (Alice, ["role", "get", "ab"], null),
        (Root, ["defrag"], null),
        (Root, ["--user=alice:alicepw", "put", "b1", "x"], null),
        (Alice, ["--user=root:rootpw", "put", "b1", "x"], null),
        (Alice, ["--user=root:rootpw", "get", "b1", "--print-value-only"], null),
        (Root, ["lease", "revoke", "LEASE"], null),
        (Root, ["get", "c1"], null),
        (Root, ["auth", "disable"], null),
        (Alice, ["put", "b1", "y"], null),
    ];

    [TestMethod]
    public async Task TheScript_PrintsTheSameAgainstCurpStoreAndAgainstEtcd()
    {
        using var harness = new ServerProcessHarness();
        var certs = await TestCertificates.MakeAsync(harness);
        string[] tls = ["--cert-file", certs.File("m1.crt"), "--key-file", certs.File("m1.key"), "--trusted-ca-file", certs.Ca, "--client-cert-auth"];
        var curpStore = EtcdctlComparison.Start(harness, "curpstore", etcd: false, tls, "https");
        var etcd = EtcdctlComparison.Start(harness, "etcd", etcd: true, tls, "https");
        foreach (var endpoint in new[] { curpStore, etcd })
        {
            using var channel = certs.Channel(endpoint);
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
        }
        var expected = await RunScriptAsync(etcd, certs, Path.Combine(harness.Root, "etcd.snapshot"));
        var actual = await RunScriptAsync(curpStore, certs, Path.Combine(harness.Root, "curpstore.snapshot"));
        EtcdctlComparison.AssertSame([.. Script.Select(s => (string[])[s.As, .. s.Args])], expected, actual, harness);
        // The script saw both sides of every check.
        Assert.IsTrue(actual.Count(a => a.Contains("etcdserver: permission denied", StringComparison.Ordinal)) >= 10, string.Join('\n', actual));
        Assert.IsTrue(actual.Count(a => a.Contains("auth: permission denied", StringComparison.Ordinal)) >= 3, string.Join('\n', actual));
        Assert.IsTrue(actual.Count(a => a.StartsWith("exit 0", StringComparison.Ordinal)) >= 15, string.Join('\n', actual));
    }

    /// <summary>Runs the script; returns each command's exit code and output, with ids, the endpoint and etcdctl's own
    /// log lines taken out.</summary>
    private static async Task<List<string>> RunScriptAsync(string endpoint, TestCertificates certs, string snapshotPath)
    {
        var transcript = new List<string>();
        var lease = "";
        foreach (var (who, args, stdin) in Script)
        {
            var certificate = certs.Etcdctl(who == Root ? "client" : "alice");
            var (exitCode, output) = await Etcdctl.RunAsync(endpoint,
                [.. certificate, .. args.Select(a => a.Replace("LEASE", lease, StringComparison.Ordinal).Replace("SNAPSHOT", snapshotPath, StringComparison.Ordinal))], stdin);
            if (args is ["lease", "grant", ..])
            {
                lease = Id().Match(output).Value;
            }
            var lines = output.Split('\n')
                .Where(l => !l.StartsWith("{\"level\"", StringComparison.Ordinal))
                .Select(l => Id().Replace(l.Replace(endpoint, "ENDPOINT", StringComparison.Ordinal).Replace(snapshotPath, "SNAPSHOT", StringComparison.Ordinal), "ID"));
            transcript.Add($"exit {exitCode}: {string.Join('\n', lines).TrimEnd()}");
        }
        return transcript;
    }

    [GeneratedRegex("[0-9a-f]{12,16}")]
    private static partial Regex Id();
}
