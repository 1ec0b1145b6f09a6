using System.Text.RegularExpressions;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>
/// One etcdctl script about the NOSPACE alarm, run against Debian's etcd 3.4 and a CurpStore process started with the
/// same small <c>--quota-backend-bytes</c>: put until the quota refuses, <c>alarm list</c>, writes refused (put, txn
/// with a put, lease grant), reads and deletes served, compact, defrag, writes still refused, <c>alarm disarm</c>,
/// writes again. Every command must print the same on both once numbers (sizes, revisions, counts, member ids) and
/// the endpoint are normalized and etcdctl's own log lines dropped.
/// </summary>
[TestClass]
public sealed partial class AlarmEtcdctlTests
{
    private const long QuotaBytes = 150_000;

    /// <summary>Fills the store: puts of <see cref="FillValue"/> until one fails; its output is the transcript line.</summary>
    private const string Fill = "FILL";

    /// <summary>Compacts at the current revision (read from <c>endpoint status</c>).</summary>
    private const string CompactNow = "COMPACT";

    private static readonly string FillValue = new('x', 5000);

    private static readonly (string[] Args, string? Stdin)[] Script =
    [
        (["alarm", "list"], null),
        ([Fill], null),
        (["alarm", "list"], null),
        (["put", "x", "y"], null),
        (["txn"], "\nput a b\n\n\n"),
        (["txn"], "\ndel fill/3\n\n\n"),
        (["lease", "grant", "10"], null),
        (["get", "fill/1", "--keys-only"], null),
        (["del", "fill/2"], null),
        (["del", "fill/", "--prefix"], null),
        ([CompactNow], null),
        (["put", "x", "y"], null),
        (["defrag"], null),
        (["put", "x", "y"], null),
        (["alarm", "disarm"], null),
        (["alarm", "list"], null),
        (["put", "x", "y"], null),
        (["get", "x"], null),
        (["lease", "grant", "10"], null),
        (["alarm", "disarm"], null),
    ];

    [TestMethod]
    public async Task NoSpaceScript_PrintsTheSameAgainstCurpStoreAndAgainstEtcd()
    {
        using var harness = new ServerProcessHarness();
        var (curpStore, etcd) = await EtcdctlComparison.StartBothAsync(harness, "--quota-backend-bytes", $"{QuotaBytes}");
        var expected = await RunScriptAsync(etcd);
        var actual = await RunScriptAsync(curpStore);
        EtcdctlComparison.AssertSame([.. Script.Select(s => s.Args)], expected, actual, harness);
        // The script saw the alarm raised, refusing, and gone.
        Assert.AreEqual(6, actual.Count(a => a.Contains("database space exceeded", StringComparison.Ordinal)), string.Join('\n', actual));
        Assert.AreEqual(2, actual.Count(a => a.Contains("alarm:NOSPACE", StringComparison.Ordinal)), string.Join('\n', actual));
        Assert.AreEqual("exit 0: OK", actual[Array.FindIndex(Script, s => s.Args.SequenceEqual(["get", "x"])) - 1]);
    }

    /// <summary>Runs the script; returns each command's exit code and normalized output.</summary>
    private static async Task<List<string>> RunScriptAsync(string endpoint)
    {
        var transcript = new List<string>();
        foreach (var (args, stdin) in Script)
        {
            var (exitCode, output) = args[0] switch
            {
                Fill => await FillAsync(endpoint),
                CompactNow => await Etcdctl.RunAsync(endpoint, ["compact", await CurrentRevisionAsync(endpoint)]),
                _ => await Etcdctl.RunAsync(endpoint, args, stdin),
            };
            var lines = EtcdctlComparison.WithoutClientLogLines(output)
                .Select(l => Number().Replace(LeaseId().Replace(l.Replace(endpoint, "ENDPOINT", StringComparison.Ordinal), "ID"), "N").TrimEnd());
            transcript.Add($"exit {exitCode}: {string.Join('\n', lines).TrimEnd()}");
        }
        return transcript;
    }

    /// <summary>Puts until the quota refuses one (both stores take some dozens of these values under the quota).</summary>
    private static async Task<(int ExitCode, string Output)> FillAsync(string endpoint)
    {
        for (var i = 0; i < 200; i++)
        {
            var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["put", $"fill/{i}", FillValue]);
            if (exitCode != 0)
            {
                Assert.IsGreaterThan(5, i, $"only {i} puts fit under the quota: {output}");
                return (exitCode, output);
            }
        }
        Assert.Fail($"200 puts of {FillValue.Length} bytes did not exceed a quota of {QuotaBytes} bytes");
        throw new InvalidOperationException();
    }

    private static async Task<string> CurrentRevisionAsync(string endpoint)
    {
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["endpoint", "status", "-w", "json"]);
        Assert.AreEqual(0, exitCode, output);
        return RevisionField().Match(output).Groups[1].Value;
    }


    [GeneratedRegex("\\b[0-9a-f]{16}\\b")]
    private static partial Regex LeaseId();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Number();

    [GeneratedRegex("\"revision\":([0-9]+)")]
    private static partial Regex RevisionField();
}
