using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using CurpStore.Rpc;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Watch;

/// <summary>
/// Debian's <c>etcdctl watch</c> against a real CurpStore server process: the same script of writes, watched live
/// (<c>--prefix</c>, <c>--prev-kv</c>, a key range), replayed (<c>--rev</c>), after a compaction, and with an interactive
/// progress request, must print what it prints against real etcd. When Debian's <c>etcd</c> is installed the script
/// runs against it too, in this test, and the transcripts are compared; otherwise against etcd 3.4.23's transcript
/// recorded below.
/// </summary>
[TestClass]
public sealed partial class WatchEtcdctlTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What etcd 3.4.23 prints for <see cref="RunScriptAsync"/> (recorded with Debian's etcd and etcdctl).</summary>
    private static readonly Dictionary<string, string> RecordedEtcdTranscript = new()
    {
        ["live"] = "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n3\nPUT\nw/c\n4\nDELETE\nw/a\n\nPUT\nw/x\ntx\nPUT\nw/y\nty\nDELETE\nw/x\n\nPUT\nw/b\nlast\nPUT\nw/end\ne\n",
        ["prev-kv"] = "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n1\nw/a\n3\nPUT\nw/c\n4\nDELETE\nw/a\n3\nw/a\n\nPUT\nw/x\ntx\nPUT\nw/y\nty\nDELETE\nw/x\ntx\nw/x\n\nPUT\nw/b\n2\nw/b\nlast\nPUT\nw/end\ne\n",
        ["range"] = "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n3\nPUT\nw/c\n4\nDELETE\nw/a\n\nPUT\nw/b\nlast\nPUT\nw/end\ne\n",
        ["replay"] = "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n3\nPUT\nw/c\n4\nDELETE\nw/a\n\nPUT\nw/x\ntx\nPUT\nw/y\nty\nDELETE\nw/x\n\nPUT\nw/b\nlast\nPUT\nw/end\ne\n",
        ["compacted"] = "exit 5\nstdout: \nstderr: watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n",
        ["progress"] = "progress notify: REV\n",
    };

    [TestMethod]
    public async Task WatchPrefixRevPrevKvRangeCompactedAndProgress_PrintWhatEtcdPrints()
    {
        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"http://127.0.0.1:{clientPort}";
        harness.Start("member",
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"default=http://127.0.0.1:{peerPort}");
        using (var channel = new GrpcChannel(new Uri(endpoint)))
        {
            await ServerProcessHarness.WaitForLeaderAsync(channel, WaitTimeout);
        }
        var curpStore = await RunScriptAsync(endpoint);

        var expected = RecordedEtcdTranscript;
        var against = "etcd 3.4.23's recorded transcript";
        if (RealEtcd.IsInstalled)
        {
            using var etcd = await RealEtcd.StartAsync();
            expected = await RunScriptAsync(etcd.Endpoint);
            against = "Debian's etcd, run now";
            var stale = RecordedEtcdTranscript.Where(p => p.Value != expected[p.Key]).Select(p => p.Key).ToList();
            Assert.AreEqual(0, stale.Count, $"etcd itself printed something else than recorded for {string.Join(", ", stale)}; the recording is stale. etcd printed:\n"
                + string.Join("\n", expected.Select(p => $"[\"{p.Key}\"] = \"{p.Value.Replace("\n", "\\n", StringComparison.Ordinal)}\",")));
        }
        foreach (var (part, text) in expected)
        {
            Assert.AreEqual(text, curpStore[part], $"etcdctl watch ({part}) printed something else against CurpStore than against {against}\n{harness.Log("member")}");
        }
    }

    /// <summary>
    /// Watches started first (live, prev-kv, the range [w/a, w/s)), made ready by writing w/ready until each of them printed it (the
    /// ready writes are cut from the transcript, so their number may differ between servers), then the same writes on
    /// both servers; then a replay from the first write's revision, a watch from a compacted revision, and a progress
    /// request. Revisions appear only in the progress line, which is normalized.
    /// </summary>
    private static async Task<Dictionary<string, string>> RunScriptAsync(string endpoint)
    {
        var transcript = new Dictionary<string, string>();
        using var live = EtcdctlWatch.Start(endpoint, ["--prefix", "w/"]);
        using var prevKv = EtcdctlWatch.Start(endpoint, ["--prefix", "--prev-kv", "w/"]);
        using var range = EtcdctlWatch.Start(endpoint, ["w/a", "w/s"]);
        var watches = new[] { live, prevKv, range };
        var ready = "";
        for (var attempt = 1; ; attempt++)
        {
            ready = $"ready{attempt}";
            await EtcdctlAsync(endpoint, "put", "w/ready", ready);
            var seen = await Task.WhenAll(watches.Select(w => w.WaitForLineAsync(ready, TimeSpan.FromSeconds(1))));
            if (seen.All(s => s))
            {
                break;
            }
            Assert.IsTrue(attempt < 30, $"the etcdctl watches did not start against {endpoint}");
        }

        var first = Revision(await EtcdctlAsync(endpoint, "put", "w/a", "1", "-w", "json"));
        await EtcdctlAsync(endpoint, "put", "w/b", "2");
        await EtcdctlAsync(endpoint, "put", "w/a", "3");
        await EtcdctlAsync(endpoint, "put", "w/c", "4");
        await EtcdctlAsync(endpoint, "del", "w/a");
        await EtcdctlAsync(endpoint, ["txn"], "\nput w/x tx\nput w/y ty\n\n\n");
        await EtcdctlAsync(endpoint, "del", "--prefix", "w/x");
        await EtcdctlAsync(endpoint, "put", "w/b", "last");
        var end = Revision(await EtcdctlAsync(endpoint, "put", "w/end", "e", "-w", "json"));
        Assert.IsTrue(await live.WaitForLineAsync("e", WaitTimeout) && await prevKv.WaitForLineAsync("e", WaitTimeout) && await range.WaitForLineAsync("e", WaitTimeout),
            $"the watches did not see the last writes:\n{live.Output}\n{prevKv.Output}\n{range.Output}");
        transcript["live"] = After(live.Output, ready);
        transcript["prev-kv"] = After(prevKv.Output, ready);
        transcript["range"] = After(range.Output, ready);

        using (var replay = EtcdctlWatch.Start(endpoint, ["--rev", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "--prefix", "w/"]))
        {
            Assert.IsTrue(await replay.WaitForLineAsync("e", WaitTimeout), $"the replay did not reach the last write:\n{replay.Output}{replay.Errors}");
            transcript["replay"] = replay.Output;
        }

        await EtcdctlAsync(endpoint, "compact", end.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using (var compacted = EtcdctlWatch.Start(endpoint, ["--rev", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "w/a"]))
        {
            var exitCode = await compacted.WaitForExitAsync(WaitTimeout);
            transcript["compacted"] = $"exit {exitCode}\nstdout: {compacted.Output}\nstderr: {compacted.Errors}";
        }

        using (var interactive = EtcdctlWatch.Start(endpoint, ["-i"], ["watch w/a", "progress"]))
        {
            var progressLine = await WaitForPrefixAsync(interactive, "progress notify: ");
            transcript["progress"] = ProgressRevision().Replace(progressLine, "REV") + "\n";
        }
        return transcript;
    }

    /// <summary>The output after the block that printed the last ready write.</summary>
    private static string After(string output, string ready)
    {
        var lines = output.Split('\n').ToList();
        var last = lines.LastIndexOf(ready);
        Assert.IsTrue(last >= 0, $"{ready} missing from:\n{output}");
        return string.Join('\n', lines.Skip(last + 1));
    }

    private static async Task<string> WaitForPrefixAsync(EtcdctlWatch watch, string prefix)
    {
        var deadline = DateTime.UtcNow + WaitTimeout;
        while (true)
        {
            var line = watch.Output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }
            Assert.IsTrue(DateTime.UtcNow < deadline, $"no '{prefix}' line within {WaitTimeout}:\n{watch.Output}{watch.Errors}");
            await Task.Delay(20);
        }
    }

    private static long Revision(string json)
    {
        var match = JsonRevision().Match(json);
        Assert.IsTrue(match.Success, $"no revision in {json}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<string> EtcdctlAsync(string endpoint, params string[] args) => EtcdctlAsync(endpoint, args, null);

    private static async Task<string> EtcdctlAsync(string endpoint, string[] args, string? stdin)
    {
        var (exitCode, output) = await Etcdctl.RunAsync(endpoint, args, stdin);
        Assert.AreEqual(0, exitCode, $"etcdctl {string.Join(' ', args)} failed against {endpoint}: {output}");
        return output;
    }

    [GeneratedRegex("\"revision\":(\\d+)")]
    private static partial Regex JsonRevision();

    [GeneratedRegex("\\d+$")]
    private static partial Regex ProgressRevision();

    /// <summary>Debian's etcd 3.4 on free loopback ports with a temporary data dir; killed by its own process handle.</summary>
    private sealed class RealEtcd : IDisposable
    {
        private readonly Process process;
        private readonly string dataDir;

        private RealEtcd(Process process, string dataDir, string endpoint)
        {
            this.process = process;
            this.dataDir = dataDir;
            Endpoint = endpoint;
        }

        public static bool IsInstalled => File.Exists("/usr/bin/etcd") || (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "etcd")));

        public string Endpoint { get; }

        public static async Task<RealEtcd> StartAsync()
        {
            var dataDir = Directory.CreateTempSubdirectory("curpstore-real-etcd").FullName;
            var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
            var endpoint = $"http://127.0.0.1:{clientPort}";
            var info = new ProcessStartInfo("etcd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[]
            {
                "--data-dir", Path.Combine(dataDir, "data"), "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
                "--initial-cluster", $"default=http://127.0.0.1:{peerPort}",
            })
            {
                info.ArgumentList.Add(arg);
            }
            Process process;
            try
            {
                process = Process.Start(info) ?? throw new InvalidOperationException("etcd did not start");
            }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"etcd is on the PATH but did not start: {e.Message}", e);
            }
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var etcd = new RealEtcd(process, dataDir, endpoint);
            try
            {
                using var channel = new GrpcChannel(new Uri(endpoint));
                await ServerProcessHarness.WaitForLeaderAsync(channel, WaitTimeout);
                return etcd;
            }
            catch
            {
                etcd.Dispose(); // never leave an etcd running behind a failed start
                throw;
            }
        }

        public void Dispose()
        {
            Etcdctl.Kill(process);
            process.Dispose();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
                // etcd may hold a file for a moment; the temp folder is cleaned by the system
            }
        }
    }
}
