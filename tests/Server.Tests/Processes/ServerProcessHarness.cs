using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Processes;

/// <summary>Starts real <c>CurpStore.Server</c> processes (the built server next to this test assembly), talks to them
/// with etcd's messages over the project's own gRPC client, and kills them with SIGKILL. Ends only what it started.</summary>
internal sealed class ServerProcessHarness : IDisposable
{
    private readonly List<Process> started = [];

    public ServerProcessHarness()
    {
        Root = Directory.CreateTempSubdirectory("curpstore-process").FullName;
    }

    public string Root { get; }

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "CurpStore.Server.dll");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Process Start(string name, params string[] flags) => StartProgram(name, "dotnet", [ServerDll, .. flags]);

    /// <summary>Starts a CurpStore cluster of <paramref name="size"/> member processes (m1, m2, ...) on free loopback
    /// ports, each with <paramref name="flags"/> too, and returns their client endpoints in member order.
    /// <paramref name="advertisePeerPort"/> may put something (a delaying proxy) in front of a member's peer port: it
    /// gets the port the member listens on and returns the port the others dial.</summary>
    public IReadOnlyList<string> StartCluster(int size, Func<int, int>? advertisePeerPort = null, params string[] flags)
    {
        var ports = Enumerable.Range(0, size).Select(_ => (Client: FreePort(), Peer: FreePort())).ToList();
        var advertised = ports.Select(p => advertisePeerPort?.Invoke(p.Peer) ?? p.Peer).ToList();
        var initialCluster = string.Join(',', advertised.Select((port, i) => $"m{i + 1}=http://127.0.0.1:{port}"));
        for (var i = 0; i < size; i++)
        {
            var endpoint = $"http://127.0.0.1:{ports[i].Client}";
            Start($"m{i + 1}", [
                "--name", $"m{i + 1}", "--data-dir", Path.Combine(Root, $"m{i + 1}.curpstore"),
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", $"http://127.0.0.1:{ports[i].Peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{advertised[i]}",
                "--initial-cluster", initialCluster, .. flags]);
        }
        return [.. ports.Select(p => $"http://127.0.0.1:{p.Client}")];
    }

    /// <summary>Starts Debian's real etcd (installed by .ci/run) with <paramref name="flags"/>; its data dir is
    /// under <see cref="Root"/>.</summary>
    public Process StartEtcd(string name, params string[] flags) => StartEtcdMember(name, name, flags);

    /// <summary>Starts a one-member cluster "m1" of <paramref name="system"/> ("curpstore" or "etcd", Debian's etcd 3.4)
    /// on free loopback ports with <paramref name="flags"/> too, and returns its client endpoint.</summary>
    public Uri StartSingleMember(string system, params string[] flags)
    {
        var (clientPort, peerPort) = (FreePort(), FreePort());
        string[] all =
        [
            "--listen-client-urls", $"http://127.0.0.1:{clientPort}", "--advertise-client-urls", $"http://127.0.0.1:{clientPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"m1=http://127.0.0.1:{peerPort}", .. flags,
        ];
        if (system == "etcd")
        {
            StartEtcd("m1", all);
        }
        else
        {
            Start("m1", ["--name", "m1", .. all]);
        }
        return new Uri($"http://127.0.0.1:{clientPort}");
    }

    /// <summary>Starts Debian's real etcd as member <paramref name="memberName"/>, logging to <paramref name="logName"/>
    /// (member names repeat across clusters started by one harness; log names do not).</summary>
    public Process StartEtcdMember(string logName, string memberName, IEnumerable<string> flags)
    {
        var etcd = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
            ?? throw new AssertFailedException("etcd is not installed: apt-get install -y etcd-server (.ci/run does)");
        return StartProgram(logName, etcd, ["--name", memberName, "--data-dir", Path.Combine(Root, logName + ".etcd"), .. flags]);
    }

    private Process StartProgram(string name, string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = Root, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var flag in arguments)
        {
            info.ArgumentList.Add(flag);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
        var log = new StreamWriter(Path.Combine(Root, name + ".log"), append: true) { AutoFlush = true };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        started.Add(process);
        return process;
    }

    public string Log(string name) => File.Exists(LogPath(name)) ? File.ReadAllText(LogPath(name)) : "";

    /// <summary>Where the process started as <paramref name="name"/> writes its output.</summary>
    public string LogPath(string name) => Path.Combine(Root, name + ".log");

    public static void Kill9(Process process)
    {
        process.Kill(entireProcessTree: true); // SIGKILL: no flush, no goodbye
        process.WaitForExit(10_000);
    }

    public static async Task<Pb.PutResponse> PutAsync(GrpcChannel channel, string key, string value, TimeSpan timeout) =>
        await channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
            new CallOptions(Deadline: DateTime.UtcNow + timeout));

    public static async Task<Pb.RangeResponse> GetAsync(GrpcChannel channel, string key, TimeSpan timeout, string? rangeEnd = null) =>
        await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest
        {
            Key = ByteString.CopyFromUtf8(key),
            RangeEnd = rangeEnd is null ? ByteString.Empty : ByteString.CopyFromUtf8(rangeEnd),
        }, new CallOptions(Deadline: DateTime.UtcNow + timeout));

    /// <summary>Waits until the member answers Status with a leader (bounded).</summary>
    public static async Task<Pb.StatusResponse> WaitForLeaderAsync(GrpcChannel channel, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await channel.UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(2)));
                if (status.Leader != 0)
                {
                    return status;
                }
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException)
            {
                last = e;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no leader within {timeout}: {last?.Message}");
    }

    public static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    public void Dispose()
    {
        foreach (var process in started)
        {
            try
            {
                if (!process.HasExited)
                {
                    Kill9(process);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            process.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a process may still hold a file for a moment; the temp folder is cleaned by the system
        }
    }
}
