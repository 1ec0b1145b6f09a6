using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CurpStore.Rig;

/// <summary>A running WAN rig: namespaces, link proxies, echo servers and (unless the system is "none") one member
/// process per placed region. The C# API behind the rig's command line and its tests.</summary>
public sealed class RigRun : IAsyncDisposable
{
    private readonly List<RigLink> links = [];
    private readonly List<EchoServer> echoServers = [];
    private readonly Dictionary<string, Process> members = [];
    private readonly RigOptions options;
    private bool disposed;

    private RigRun(RigOptions options, RigPlan plan, string runDirectory)
    {
        this.options = options;
        Plan = plan;
        RunDirectory = runDirectory;
    }

    /// <summary>Names, addresses and delays.</summary>
    public RigPlan Plan { get; }

    /// <summary>Member data and logs.</summary>
    public string RunDirectory { get; }

    /// <summary>Every proxy.</summary>
    public IReadOnlyList<RigLink> Links => links;

    /// <summary>The member processes by name ("m1"...), while running.</summary>
    public IReadOnlyDictionary<string, Process> MemberProcesses => members;

    /// <summary>Creates the network, the proxies and the echo servers and starts the members. On failure everything
    /// created so far is removed.</summary>
    /// <exception cref="RigException">Not root, a tool is missing, or a step failed.</exception>
    public static async Task<RigRun> StartAsync(RigOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.System is not ("curpstore" or "etcd" or "none"))
        {
            throw new RigException($"unknown system \"{options.System}\" (curpstore, etcd or none)");
        }
        HostNetwork.CheckPrerequisites();
        var plan = RigPlan.Create(options.Topology, options.Members, options.ClientRegions, options.RunName ?? RigPlan.NewRunName(), HostNetwork.FreeSubnetOctet());
        var runDirectory = Path.Combine(options.StateDirectory, plan.RunName);
        Directory.CreateDirectory(runDirectory);
        var run = new RigRun(options, plan, runDirectory);
        try
        {
            run.Build();
            if (options.System != "none")
            {
                run.StartMembers();
            }
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>Cuts traffic from <paramref name="from"/> to <paramref name="to"/> (node names): connections
    /// <paramref name="from"/> opens to <paramref name="to"/> are reset and refused; those <paramref name="to"/>
    /// opened are reset and what <paramref name="from"/> sends on new ones is dropped.</summary>
    public void Cut(string from, string to) => ForDirection(from, to, p => p.CutForward(), p => p.CutBackward());

    /// <summary>Undoes <see cref="Cut"/> for the same direction.</summary>
    public void Heal(string from, string to) => ForDirection(from, to, p => p.HealForward(), p => p.HealBackward());

    /// <summary>Cuts every link between <paramref name="region"/> (its members and its clients) and the other regions;
    /// traffic inside the region goes on, as in a region cut off from the wide-area network.</summary>
    public void CutRegion(string region)
    {
        foreach (var (a, b) in PairsTouching(region))
        {
            Cut(a.Name, b.Name);
            Cut(b.Name, a.Name);
        }
    }

    /// <summary>Heals every link between <paramref name="region"/> and the other regions.</summary>
    public void HealRegion(string region)
    {
        foreach (var (a, b) in PairsTouching(region))
        {
            Heal(a.Name, b.Name);
            Heal(b.Name, a.Name);
        }
    }

    /// <summary>Heals every link.</summary>
    public void HealAll()
    {
        foreach (var link in links)
        {
            link.Proxy.Heal();
        }
    }

    /// <summary>One line per link with a cut or open connections, then a summary line.</summary>
    public string Status()
    {
        var text = new StringBuilder();
        foreach (var group in links.GroupBy(l => (l.From, l.To)))
        {
            var forwardCut = group.Any(l => l.Proxy.ForwardCut);
            var backwardCut = group.Any(l => l.Proxy.BackwardCut);
            var state = forwardCut ? "cut" : "open";
            var answers = backwardCut ? ", answers dropped" : "";
            text.Append(CultureInfo.InvariantCulture, $"{Describe(group.Key.From)} -> {Describe(group.Key.To)}: {state}{answers}, {group.Sum(l => l.Proxy.OpenConnections)} connections, one-way {Plan.DelayBetween(group.Key.From, group.Key.To).OneWayMs} ms\n");
        }
        var cut = links.Where(l => l.Proxy.ForwardCut).Select(l => (l.From, l.To)).Distinct().Count();
        text.Append(CultureInfo.InvariantCulture, $"{links.Select(l => (l.From, l.To)).Distinct().Count()} links, {cut} cut; members: {string.Join(", ", Plan.Members.Select(m => $"{m.Name} {(members.TryGetValue(m.Name, out var p) && !p.HasExited ? "running" : "stopped")}"))}\n");
        return text.ToString();
    }

    /// <summary>Endpoints per region, as clients there use them.</summary>
    public string Endpoints()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"run {Plan.RunName}: {options.System} x{Plan.Members.Count}, bridge {Plan.BridgeName} {Plan.BridgeAddress}/24, state {RunDirectory}\n");
        foreach (var member in Plan.Members)
        {
            text.Append(CultureInfo.InvariantCulture, $"member {member.Name} in {member.Region}: client {RigPlan.ClientUrl(member)}, peer {RigPlan.PeerUrl(member)}, namespace {member.Namespace}\n");
        }
        var all = string.Join(',', Plan.Members.Select(RigPlan.ClientUrl));
        foreach (var client in Plan.Clients)
        {
            text.Append(CultureInfo.InvariantCulture, $"clients in {client.Region}: namespace {client.Namespace}, --endpoints {all}\n");
        }
        return text.ToString();
    }

    /// <summary>Measures every link's round trip over its real path (see <see cref="RttProbe"/>), all links at once.</summary>
    public async Task<RttReport> MeasureRttAsync(int samples)
    {
        var echoLinks = links.Where(l => l.Port == RigPlan.EchoPort).ToList();
        var measured = await Task.WhenAll(echoLinks.Select(link => RttProbe.MeasureAsync(
            () => NetworkNamespace.CreateTcpSocket(link.From.Namespace),
            new IPEndPoint(link.To.Address, RigPlan.EchoPort),
            samples)));
        return new RttReport([.. echoLinks.Select((link, i) => new RttReport.Row(
            link.From, link.To, Plan.DelayBetween(link.From, link.To).MedianRoundTripMs, RttProbe.Median(measured[i]), measured[i].Min()))]);
    }

    /// <summary>A process that runs <paramref name="command"/> inside <paramref name="node"/>'s namespace (a member,
    /// a client namespace or a region's client namespace).</summary>
    public ProcessStartInfo ExecStartInfo(string node, IEnumerable<string> command) => ExecInNamespace(Plan.Node(node).Namespace, command);

    /// <summary>A process that runs <paramref name="command"/> inside <paramref name="networkNamespace"/>.</summary>
    public static ProcessStartInfo ExecInNamespace(string networkNamespace, IEnumerable<string> command)
    {
        var info = new ProcessStartInfo("ip");
        foreach (var argument in (string[])["netns", "exec", networkNamespace, .. command])
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    /// <summary>Waits (bounded) until every running member accepts connections on its client port.</summary>
    /// <exception cref="RigException">A member exited or did not listen in time; the message has its log's tail.</exception>
    public async Task WaitForMembersAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var member in Plan.Members)
        {
            while (true)
            {
                if (members[member.Name].HasExited)
                {
                    throw new RigException($"member {member.Name} exited with {members[member.Name].ExitCode}:\n{LogTail(member.Name)}");
                }
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await socket.ConnectAsync(new IPEndPoint(member.Address, RigPlan.ClientPort), attempt.Token);
                    break;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    if (deadline.Elapsed > timeout)
                    {
                        throw new RigException($"member {member.Name} did not listen on {RigPlan.ClientUrl(member)} within {timeout.TotalSeconds} s:\n{LogTail(member.Name)}");
                    }
                    await Task.Delay(200);
                }
            }
        }
    }

    /// <summary>The last lines of a member's log.</summary>
    public string LogTail(string member, int lines = 30)
    {
        var path = LogPath(member);
        return File.Exists(path) ? string.Join('\n', ReadShared(path).Split('\n').TakeLast(lines)) : $"(no log at {path})";
    }

    /// <summary>Where a member's output goes.</summary>
    public string LogPath(string member) => Path.Combine(RunDirectory, member + ".log");

    /// <summary>Stops the members (SIGKILL: a rig run is thrown away), the proxies and echo servers, and removes the
    /// network. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        foreach (var process in members.Values)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
            process.Dispose();
        }
        foreach (var echo in echoServers)
        {
            echo.Dispose();
        }
        foreach (var link in links)
        {
            await link.Proxy.DisposeAsync();
        }
        HostNetwork.Remove(Plan.RunName);
        if (options.DeleteRunDirectoryOnDispose)
        {
            Directory.Delete(RunDirectory, recursive: true);
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Applies <paramref name="onLink"/> to the proxies of link from→to and <paramref name="onReverse"/> to
    /// those of link to→from, which carry from's answers on connections that to opened.</summary>
    private void ForDirection(string from, string to, Action<DelayProxy> onLink, Action<DelayProxy> onReverse)
    {
        var (a, b) = (Plan.Node(from), Plan.Node(to));
        foreach (var link in links)
        {
            if (link.From == a && link.To == b)
            {
                onLink(link.Proxy);
            }
            else if (link.From == b && link.To == a)
            {
                onReverse(link.Proxy);
            }
        }
    }

    private static string Describe(RigNode node) => $"{node.Name} ({node.Region})";

    private IEnumerable<(RigNode A, RigNode B)> PairsTouching(string region)
    {
        if (!Plan.Topology.HasRegion(region))
        {
            throw new RigException($"unknown region \"{region}\" (regions: {string.Join(", ", Plan.Topology.Regions)})");
        }
        return links.Select(l => (l.From, l.To)).Distinct().Where(p => (p.From.Region == region) != (p.To.Region == region));
    }

    private void Build()
    {
        HostNetwork.Create(Plan);
        var seed = options.Seed;
        foreach (var (from, to) in Plan.Links)
        {
            foreach (var port in new[] { RigPlan.ClientPort, RigPlan.PeerPort, RigPlan.EchoPort })
            {
                var proxy = new DelayProxy(new IPEndPoint(Plan.BridgeAddress, 0), new IPEndPoint(to.Address, port), Plan.DelayBetween(from, to), seed++);
                links.Add(new RigLink(from, to, port, proxy));
            }
        }
        foreach (var group in links.GroupBy(l => l.From))
        {
            HostNetwork.AddDnatRules(group.Key, group.Select(l => (l.To.Address, l.Port, l.Proxy.Endpoint.Port)), Plan.BridgeAddress);
        }
        foreach (var member in Plan.Members)
        {
            echoServers.Add(new EchoServer(NetworkNamespace.CreateTcpSocket(member.Namespace), new IPEndPoint(member.Address, RigPlan.EchoPort)));
        }
    }

    private void StartMembers()
    {
        // Raft timing scaled to the widest round trip, as etcd's tuning guide asks: heartbeat about one RTT,
        // election timeout ten heartbeats.
        var widestRoundTripMs = Plan.Links.Max(l => Plan.DelayBetween(l.From, l.To).MedianRoundTripMs);
        var heartbeatMs = Math.Max(100, (int)Math.Ceiling(widestRoundTripMs / 10.0) * 10);
        string program;
        string[] prefix;
        if (options.System == "etcd")
        {
            program = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
                ?? throw new RigException("etcd is not installed: apt-get install -y etcd-server");
            prefix = [];
        }
        else
        {
            if (!File.Exists(options.ServerDll))
            {
                throw new RigException($"no CurpStore server at {options.ServerDll}: dotnet build src/Server -c Release");
            }
            program = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
            prefix = [options.ServerDll];
        }
        foreach (var member in Plan.Members)
        {
            string[] flags =
            [
                .. prefix,
                "--name", member.Name,
                "--data-dir", Path.Combine(RunDirectory, member.Name + ".data"),
                "--listen-client-urls", RigPlan.ClientUrl(member),
                "--advertise-client-urls", RigPlan.ClientUrl(member),
                "--listen-peer-urls", RigPlan.PeerUrl(member),
                "--initial-advertise-peer-urls", RigPlan.PeerUrl(member),
                "--initial-cluster", Plan.InitialCluster,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", Plan.RunName,
                "--heartbeat-interval", heartbeatMs.ToString(CultureInfo.InvariantCulture),
                "--election-timeout", (heartbeatMs * 10).ToString(CultureInfo.InvariantCulture),
                .. options.MemberFlags,
            ];
            var info = ExecInNamespace(member.Namespace, [program, .. flags]);
            info.RedirectStandardOutput = info.RedirectStandardError = true;
            var log = new StreamWriter(new FileStream(LogPath(member.Name), FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            var process = new Process { StartInfo = info };
            void Write(object sender, DataReceivedEventArgs e)
            {
                if (e.Data is not null)
                {
                    lock (log)
                    {
                        log.WriteLine(e.Data);
                    }
                }
            }
            process.OutputDataReceived += Write;
            process.ErrorDataReceived += Write;
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            members[member.Name] = process;
        }
    }
}
