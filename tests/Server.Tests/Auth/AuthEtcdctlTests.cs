using System.Text;
using System.Text.RegularExpressions;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Auth;

/// <summary>
/// One script of Debian's <c>etcdctl</c> (3.4) auth commands, run against Debian's real etcd and against a CurpStore
/// server process: users, roles, prefix permissions, <c>auth enable</c>, then reads, writes, deletes, txns, a watch and
/// lease attachment and revocation by a user inside and outside its range, wrong passwords, a no-password user, admin
/// commands by a non-root user, revocations and deletions, <c>auth disable</c>. Every command must print the same on
/// both (exit code, output and error text); only lease ids are normalized and etcdctl's own log lines dropped.
/// </summary>
[TestClass]
public sealed partial class AuthEtcdctlTests
{
    private const string Root = "--user=root:rootpw";
    private const string Alice = "--user=alice:alicepw";

    /// <summary>The script: etcdctl arguments and, for a few, standard input. LEASE stands for the lease granted in it;
    /// WATCH is a watch that is allowed (it does not end by itself): its output once it printed the watched value.</summary>
    private static readonly (string[] Args, string? Stdin)[] Script =
    [
        (["user", "add", "root:rootpw"], null),
        (["auth", "enable"], null),
        ([Root, "user", "add", "alice:alicepw"], null),
        ([Root, "user", "add", "bob:bobpw"], null),
        ([Root, "user", "add", "np", "--no-password"], null),
        ([Root, "role", "add", "app"], null),
        ([Root, "role", "grant-permission", "app", "readwrite", "app/", "--prefix=true"], null),
        ([Root, "role", "grant-permission", "app", "read", "shared/", "--prefix=true"], null),
        ([Root, "role", "grant-permission", "app", "write", "drop"], null),
        ([Root, "role", "get", "app"], null),
        ([Root, "user", "grant-role", "alice", "app"], null),
        ([Root, "user", "get", "alice"], null),
        ([Root, "user", "list"], null),
        ([Root, "role", "list"], null),
        ([Alice, "put", "app/x", "1"], null),
        ([Alice, "get", "app/", "--prefix"], null),
        ([Alice, "put", "shared/y", "2"], null),
        ([Root, "put", "shared/y", "2"], null),
        ([Alice, "get", "shared/y"], null),
        ([Alice, "get", "other"], null),
        ([Alice, "put", "other", "1"], null),
        ([Alice, "del", "other"], null),
        ([Alice, "get", "app/", "--from-key"], null),
        ([Alice, "put", "drop", "1"], null),
        ([Alice, "get", "drop"], null),
        ([Alice, "del", "drop"], null),
        (["--user=alice:wrong", "get", "app/x"], null),
        (["--user=nobody:x", "get", "app/x"], null),
        (["--user=np:x", "get", "app/x"], null),
        (["get", "app/x"], null),
        (["put", "app/x", "2"], null),
        (["--user=bob:bobpw", "get", "app/x"], null),
        ([Alice, "user", "list"], null),
        ([Alice, "user", "get", "alice"], null),
        ([Alice, "user", "get", "root"], null),
        ([Alice, "role", "get", "app"], null),
        ([Alice, "user", "add", "mallory:x"], null),
        ([Alice, "auth", "disable"], null),
        ([Alice, "txn"], "value(\"app/x\") = \"1\"\n\nput app/z 1\n\nput other 1\n\n"),
        ([Alice, "txn"], "value(\"app/x\") = \"1\"\n\nput app/z 1\nget app/x\n\nget shared/y\n\n"),
        ([Alice, "txn"], "value(\"other\") = \"1\"\n\nput app/z 2\n\n\n"),
        ([Root, "lease", "grant", "100"], null),
        ([Root, "put", "other/k", "v", "--lease=LEASE"], null),
        ([Alice, "put", "app/leased", "v", "--lease=LEASE"], null),
        ([Alice, "lease", "revoke", "LEASE"], null),
        ([Alice, "watch", "other/", "--prefix"], null),
        (["WATCH", Alice, "shared/y", "--rev=1"], null),
        ([Root, "lease", "revoke", "LEASE"], null),
        ([Root, "get", "other/k"], null),
        (["compact", "2"], null),
        ([Root, "user", "revoke-role", "alice", "app"], null),
        ([Alice, "get", "app/x"], null),
        ([Root, "user", "revoke-role", "alice", "app"], null),
        ([Root, "user", "delete", "root"], null),
        ([Root, "role", "delete", "root"], null),
        ([Root, "user", "revoke-role", "root", "root"], null),
        ([Root, "role", "revoke-permission", "app", "nothere"], null),
        ([Root, "role", "revoke-permission", "app", "shared/", "--prefix=true"], null),
        ([Root, "role", "get", "app"], null),
        ([Root, "user", "add", "alice:again"], null),
        ([Root, "role", "add", "app"], null),
        ([Root, "user", "grant-role", "alice", "nosuch"], null),
        ([Root, "user", "grant-role", "nosuch", "app"], null),
        ([Root, "role", "delete", "app"], null),
        ([Root, "role", "delete", "app"], null),
        ([Root, "user", "delete", "alice"], null),
        ([Root, "user", "delete", "alice"], null),
        ([Root, "user", "passwd", "bob", "--interactive=false"], "newbob\n"),
        (["--user=bob:bobpw", "get", "app/x"], null),
        (["--user=bob:newbob", "get", "app/x"], null),
        ([Root, "auth", "disable"], null),
        (["get", "app/x"], null),
        (["user", "list"], null),
        (["role", "list"], null),
        (["--user=root:wrong", "get", "app/x"], null),
    ];

    [TestMethod]
    public async Task TheScript_PrintsTheSameAgainstCurpStoreAndAgainstEtcd()
    {
        using var harness = new ServerProcessHarness();
        var (curpStore, etcd) = await EtcdctlComparison.StartBothAsync(harness);
        var expected = await RunScriptAsync(etcd);
        var actual = await RunScriptAsync(curpStore);
        EtcdctlComparison.AssertSame([.. Script.Select(s => s.Args)], expected, actual, harness);
        // The script exercised both sides: refusals and successes.
        Assert.IsTrue(actual.Count(a => a.Contains("permission denied", StringComparison.Ordinal)) >= 10, string.Join('\n', actual));
        Assert.IsTrue(actual.Count(a => a.Contains("user name is empty", StringComparison.Ordinal)) >= 2, string.Join('\n', actual));
    }

    /// <summary>Runs the script; returns each command's exit code and output, normalized.</summary>
    private static async Task<List<string>> RunScriptAsync(string endpoint)
    {
        var transcript = new List<string>();
        var lease = "";
        foreach (var (args, stdin) in Script)
        {
            if (args[0] == "WATCH")
            {
                transcript.Add(await AllowedWatchAsync(endpoint, args[1..]));
                continue;
            }
            var (exitCode, output) = await Etcdctl.RunAsync(endpoint, [.. args.Select(a => a.Replace("LEASE", lease, StringComparison.Ordinal))], stdin);
            if (args.SequenceEqual([Root, "lease", "grant", "100"]))
            {
                lease = LeaseId().Match(output).Value;
            }
            var lines = EtcdctlComparison.WithoutClientLogLines(output).Select(l => LeaseId().Replace(l, "LEASE"));
            transcript.Add($"exit {exitCode}: {string.Join('\n', lines).TrimEnd()}");
        }
        return transcript;
    }

    /// <summary>A watch that stays open: what it printed once it printed its last line (the watched value "2").</summary>
    private static async Task<string> AllowedWatchAsync(string endpoint, string[] args)
    {
        using var watch = Watch.EtcdctlWatch.Start(endpoint, args);
        var seen = await watch.WaitForLineAsync("2", TimeSpan.FromSeconds(30));
        return $"watch printed the value: {seen}: {watch.Output.TrimEnd()}";
    }


    [GeneratedRegex("\\b[0-9a-f]{16}\\b")]
    private static partial Regex LeaseId();
}
