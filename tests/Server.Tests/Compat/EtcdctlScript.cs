using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;

namespace CurpStore.Server.Tests.Compat;

/// <summary>What one step of an <see cref="EtcdctlScript"/> does.</summary>
internal enum StepKind
{
    /// <summary>Runs etcdctl to its end: exit code, stdout and stderr go to the transcript.</summary>
    Run,

    /// <summary>Starts a long-running etcdctl (watch, lock, elect) under the name in <see cref="EtcdctlStep.Until"/>.</summary>
    Start,

    /// <summary>Waits (bounded) until the started command <see cref="EtcdctlStep.Args"/>[0] printed the line
    /// <see cref="EtcdctlStep.Until"/>, kills it and puts what it printed in the transcript.</summary>
    Stop,

    /// <summary>Polls <c>get KEY</c> (bounded) until the key is gone: a lease expiring by itself.</summary>
    WaitKeyGone,
}

/// <summary>One etcdctl command of a script, sent to member <see cref="Member"/> (0-based). In arguments, stdin and
/// the last line a <see cref="StepKind.Stop"/> waits for, <c>{BASE+n}</c> stands for the revision the script started
/// at plus n and <c>{LEASEi}</c> for the i-th lease the script granted. <see cref="Normalize"/> rewrites this step's
/// output on both sides (say why where it is used).</summary>
internal sealed record EtcdctlStep(StepKind Kind, int Member, string[] Args, string? Stdin = null, string? Until = null, Func<string, string>? Normalize = null)
{
    public override string ToString() => Kind switch
    {
        StepKind.Stop => $"stop {Args[0]} once it printed '{Until}'",
        StepKind.WaitKeyGone => $"[m{Member + 1}] wait until {Args[0]} is gone",
        _ => $"[m{Member + 1}] {(Kind == StepKind.Start ? $"start {Until}: " : "")}etcdctl {string.Join(' ', Args)}{(Stdin is null ? "" : $" <<< {Stdin.Replace("\n", "\\n", StringComparison.Ordinal)}")}",
    };
}

/// <summary>
/// Runs a script of etcdctl commands against one cluster and returns its normalized transcript, one entry per step.
/// What is normalized, on both sides alike: etcdctl's own log lines (timestamps), member ids, the cluster id and member
/// URLs (each replaced by the member's name), lease ids (LEASE1, LEASE2, ... in order of grant), raft terms and indexes,
/// database sizes and the server version (these last four are each implementation's own), health check timings, and runs of spaces in
/// tables (their widths follow the ids' lengths). Revisions are not normalized: the clusters start aligned
/// (<see cref="CompatClusters.AlignRevisionsAsync"/>) and must count alike.
/// </summary>
internal static partial class EtcdctlScript
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    public static EtcdctlStep Run(int member, params string[] args) => new(StepKind.Run, member, args);

    public static EtcdctlStep Stdin(int member, string stdin, params string[] args) => new(StepKind.Run, member, args, stdin);

    public static EtcdctlStep Start(int member, string name, params string[] args) => new(StepKind.Start, member, args, Until: name);

    public static EtcdctlStep Stop(string name, string lastLine) => new(StepKind.Stop, 0, [name], Until: lastLine);

    public static EtcdctlStep WaitKeyGone(int member, string key) => new(StepKind.WaitKeyGone, member, [key]);

    /// <summary>Runs <paramref name="script"/> against CurpStore and etcd (etcd first), revisions aligned, and fails
    /// with every step whose transcript differs. etcd's transcript must hold each of <paramref name="etcdPrints"/>:
    /// the script did what it means to (a script that went wrong the same way on both sides compares nothing).</summary>
    public static async Task CompareAsync(CompatClusters clusters, IReadOnlyList<EtcdctlStep> script, params string[] etcdPrints)
    {
        await clusters.MoveLeadershipToFirstMemberAsync();
        await clusters.AlignRevisionsAsync();
        var etcd = await RunAsync(clusters.Etcd, script);
        var curpStore = await RunAsync(clusters.CurpStore, script);
        // The transcript, for the test log: what was compared.
        Console.WriteLine(string.Join('\n', script.Select((step, i) => $"{step}\n{etcd[i]}")));
        var broken = etcd.Where(t => InfrastructureFailure().IsMatch(t)).ToList();
        Assert.AreEqual(0, broken.Count, $"etcd itself could not be reached, so nothing was compared:\n{string.Join('\n', broken)}");
        var whole = string.Join('\n', etcd);
        foreach (var expected in etcdPrints)
        {
            StringAssert.Contains(whole, expected, "etcd itself did not print what the script expects");
        }
        EtcdctlComparison.AssertSame([.. script.Select(s => s.ToString())], etcd, curpStore, clusters.CurpStoreLogs());
    }

    /// <summary>The script's transcript against the cluster whose members serve <paramref name="endpoints"/>.</summary>
    public static async Task<List<string>> RunAsync(IReadOnlyList<string> endpoints, IReadOnlyList<EtcdctlStep> script)
    {
        var identities = await ClusterIdentities.ReadAsync(endpoints);
        var baseRevision = await CompatClusters.RevisionAsync(endpoints[0]);
        var leases = new List<string>();
        var running = new Dictionary<string, EtcdctlWatch>();
        var transcript = new List<string>();
        try
        {
            foreach (var step in script)
            {
                var endpoint = endpoints[step.Member];
                var args = step.Args.Select(a => Substitute(a, baseRevision, leases)).ToArray();
                string raw;
                switch (step.Kind)
                {
                    case StepKind.Run:
                        var stdin = step.Stdin is null ? null : Substitute(step.Stdin, baseRevision, leases);
                        var (exitCode, stdout, stderr) = await Etcdctl.RunToEndAsync(endpoint, args, stdin);
                        // "lease ID granted with TTL" starts time-to-live answers too: a lease counts once.
                        foreach (var granted in GrantedLease().Matches(stdout).Select(m => m.Groups[1].Value).Where(id => !leases.Contains(id)))
                        {
                            leases.Add(granted);
                        }
                        raw = $"exit {exitCode}\nstdout:\n{stdout}stderr:\n{stderr}";
                        break;
                    case StepKind.Start:
                        running[step.Until!] = EtcdctlWatch.StartCommand(endpoint, args);
                        raw = "started";
                        break;
                    case StepKind.Stop:
                        using (var command = running[args[0]])
                        {
                            running.Remove(args[0]);
                            var lastLine = Substitute(step.Until!, baseRevision, leases);
                            var seen = await command.WaitForLineAsync(lastLine, WaitTimeout);
                            raw = $"printed '{lastLine}': {seen}\nstdout:\n{command.Output}stderr:\n{command.Errors}";
                        }
                        break;
                    default:
                        raw = await WaitKeyGoneAsync(endpoint, args[0]);
                        break;
                }
                var text = Normalize(raw, identities, leases);
                transcript.Add(step.Normalize is null ? text : step.Normalize(text));
            }
        }
        finally
        {
            foreach (var command in running.Values)
            {
                command.Dispose();
            }
        }
        return transcript;
    }

    private static async Task<string> WaitKeyGoneAsync(string endpoint, string key)
    {
        var deadline = DateTime.UtcNow + WaitTimeout;
        while (true)
        {
            var (exitCode, output) = await Etcdctl.RunAsync(endpoint, ["get", key]);
            if (exitCode == 0 && output.Length == 0)
            {
                return $"{key} is gone";
            }
            if (DateTime.UtcNow > deadline)
            {
                return $"{key} is still there after {WaitTimeout}: exit {exitCode} {output}";
            }
            await Task.Delay(200);
        }
    }

    private static string Substitute(string arg, long baseRevision, List<string> leases)
    {
        arg = BasePlaceholder().Replace(arg, m => (baseRevision + long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture));
        return LeasePlaceholder().Replace(arg, m =>
        {
            var index = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) - 1;
            return index < leases.Count ? leases[index] : "no-such-lease-granted";
        });
    }

    private static string Normalize(string raw, ClusterIdentities identities, List<string> leases)
    {
        // etcdctl's client logs retries as JSON lines with timestamps: not the server's answer.
        var text = string.Join('\n', EtcdctlComparison.WithoutClientLogLines(raw));
        text = identities.Replace(text);
        for (var i = 0; i < leases.Count; i++)
        {
            var name = $"LEASE{i + 1}";
            text = Regex.Replace(text, $@"\b{leases[i]}\b", name);
            text = Regex.Replace(text, $@"\b{long.Parse(leases[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture)}\b", name);
        }
        text = ImplementationNumber().Replace(text, m => $"{m.Groups[1].Value}{m.Groups[2].Value}N");
        text = HealthTiming().Replace(text, "took = T");
        text = TableSpaces().Replace(text, " ");
        return TableRule().Replace(text, "+-+");
    }

    /// <summary>Answers that say a server was not there to answer (an etcd cluster that did not come up, a killed
    /// member) or a wait ran out, not how etcd behaves: a script whose etcd transcript holds one compares nothing.</summary>
    [GeneratedRegex("connection refused|context deadline exceeded|etcdserver: no leader|etcdserver: request timed out|printed '[^']*': False|is still there after")]
    private static partial Regex InfrastructureFailure();

    [GeneratedRegex(@"\{BASE\+(\d+)\}")]
    private static partial Regex BasePlaceholder();

    [GeneratedRegex(@"\{LEASE(\d+)\}")]
    private static partial Regex LeasePlaceholder();

    [GeneratedRegex(@"lease ([0-9a-f]+) granted with TTL")]
    private static partial Regex GrantedLease();

    /// <summary>Raft terms and indexes, database sizes (numbers) and server versions (strings; a key's version is a
    /// number and stays) in JSON (<c>-w json</c>) and fields (<c>-w fields</c>) output.</summary>
    [GeneratedRegex(@"(""(?:raft_term|raftTerm|RaftTerm|raftIndex|RaftIndex|raftAppliedIndex|RaftAppliedIndex|dbSize|DBSize|dbSizeInUse|DBSizeInUse)""\s*:\s*)\d+|(""(?:version|Version)""\s*:\s*)""[^""]*""")]
    private static partial Regex ImplementationNumber();

    [GeneratedRegex(@"took = [0-9.]+[a-zµ]*s")]
    private static partial Regex HealthTiming();

    [GeneratedRegex(" {2,}")]
    private static partial Regex TableSpaces();

    [GeneratedRegex(@"\+[-+]+\+")]
    private static partial Regex TableRule();
}
