using System.Diagnostics;
using System.Globalization;
using CurpStore.GeoSim;
using CurpStore.Rig;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults;

/// <summary>
/// The CurpStore member processes of one fault run, one slot per member (the spare slot is the member the membership
/// changes add and remove), each in a network namespace of the WAN rig (<see cref="RigRun"/> without delays): every
/// directed link between two members goes through a proxy of its own, so a partition cuts exactly the links between
/// its sides, both ways. The harness's clients reach the members' client ports straight over the rig's bridge, never
/// through a link proxy: clients are on no side of a partition. Starts, kills (SIGKILL), pauses (SIGSTOP/SIGCONT),
/// wipes and rejoins members; ends only the processes it started.
/// </summary>
/// <remarks>Namespaces rather than plain loopback because a member dials each peer at the one peer URL that every
/// member has for it; on loopback a proxy per directed link would need a per-peer dial address in the server. With a
/// namespace per member the rig's DNAT rules turn the same URL into a different proxy per dialing member, and the
/// processes are the same unmodified servers, so kill -9, pauses, wipes and membership changes work as before. Needs
/// root, <c>ip</c> and <c>iptables-restore</c> (as the rig).</remarks>
internal sealed class MemberCluster : IAsyncDisposable
{
    /// <summary>Bound on one cluster call (member list, add, remove, promote, status).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly Slot[] slots;
    private readonly IReadOnlyList<string> extraFlags;
    private readonly Action<string> log;
    private readonly List<Process> started = [];
    private readonly RigRun network;

    private MemberCluster(RigRun network, string root, int voters, IReadOnlyList<string> extraFlags, Action<string> log)
    {
        this.network = network;
        Root = root;
        Voters = voters;
        this.extraFlags = extraFlags;
        this.log = log;
        slots = [.. network.Plan.Members.Select((node, i) => new Slot(i, node))];
    }

    /// <summary>Creates the network (a namespace per slot, a proxy per directed link); no member runs yet.</summary>
    /// <param name="root">Folder for data dirs and member logs.</param>
    /// <param name="voters">Members at the start.</param>
    /// <param name="extraFlags">Flags every member gets (for example <c>--strict-revisions</c>).</param>
    /// <param name="log">Progress lines.</param>
    /// <exception cref="RigException">Not root, a tool is missing, or the network could not be made.</exception>
    public static async Task<MemberCluster> CreateAsync(string root, int voters, IReadOnlyList<string> extraFlags, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        const string region = "local";
        var size = voters + 1;
        var topology = new Topology("fault harness (one region, no delay)", [region], [], intraRegionOneWayMs: 0, jitterMeanMs: 0,
            new Dictionary<int, IReadOnlyList<string>> { [size] = [.. Enumerable.Repeat(region, size)] }, region);
        var network = await RigRun.StartAsync(new RigOptions
        {
            Topology = topology,
            System = "none",
            Members = size,
            ClientRegions = [],
            StateDirectory = root,
            DeleteRunDirectoryOnDispose = true,
        }).ConfigureAwait(false);
        log($"network: rig run {network.Plan.RunName}, bridge {network.Plan.BridgeAddress}, a namespace per member, a proxy per directed link");
        return new MemberCluster(network, root, voters, extraFlags, log);
    }

    public string Root { get; }

    /// <summary>Voting members at the start; slot <see cref="Voters"/> is the spare.</summary>
    public int Voters { get; }

    public int SpareSlot => Voters;

    /// <summary>Slots of the members that are in the cluster now (whether running or not).</summary>
    public IReadOnlyList<int> MemberSlots => [.. slots.Where(s => s.InCluster).Select(s => s.Index)];

    public GrpcChannel Channel(int slot) => slots[slot].Channel;

    public string Name(int slot) => slots[slot].Name;

    public string LogPath(int slot) => Path.Combine(Root, slots[slot].Name + ".log");

    public bool IsRunning(int slot) => slots[slot].Process is { HasExited: false };

    /// <summary>Starts the voters as a new cluster.</summary>
    public void StartAll()
    {
        for (var i = 0; i < Voters; i++)
        {
            slots[i].InCluster = true;
        }
        for (var i = 0; i < Voters; i++)
        {
            Start(i, "new");
        }
    }

    /// <summary>SIGKILL: no flush, no goodbye.</summary>
    public void Kill(int slot)
    {
        var process = slots[slot].Process;
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        slots[slot].Paused = false;
    }

    /// <summary>Starts a member that is in the cluster and not running from its data dir (a restart).</summary>
    public void Restart(int slot)
    {
        if (slots[slot].InCluster && !IsRunning(slot))
        {
            Start(slot, slots[slot].JoinedExisting ? "existing" : "new");
        }
    }

    public void Pause(int slot) => Signal(slot, "STOP", paused: true);

    public void Resume(int slot) => Signal(slot, "CONT", paused: false);

    /// <summary>Cuts every link of <paramref name="partition"/>: open connections reset, new ones refused, answers on
    /// connections opened the other way dropped.</summary>
    public void Cut(Partition partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        foreach (var (from, to) in partition.CutLinks)
        {
            network.Cut(Name(from), Name(to));
        }
    }

    /// <summary>Heals every link.</summary>
    public void HealLinks() => network.HealAll();

    /// <summary>Undoes every fault: heals cut links, resumes paused members, restarts members of the cluster that are
    /// down.</summary>
    public void HealAll()
    {
        HealLinks();
        foreach (var slot in slots)
        {
            if (slot.Paused)
            {
                Resume(slot.Index);
            }
            Restart(slot.Index);
        }
    }

    /// <summary>The slot of the member a running member names as leader, or null when none answers with one.</summary>
    public async Task<int?> LeaderSlotAsync()
    {
        foreach (var slot in MemberSlots.Where(IsRunning))
        {
            try
            {
                var status = await Channel(slot).UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Deadline()).ConfigureAwait(false);
                if (status.Leader == 0)
                {
                    continue;
                }
                var members = await ListAsync(slot).ConfigureAwait(false);
                var leader = members.Members.FirstOrDefault(m => m.ID == status.Leader);
                var found = leader is null ? null : slots.FirstOrDefault(s => s.InCluster && leader.PeerURLs.Contains(s.AdvertisedPeerUrl));
                if (found is not null)
                {
                    return found.Index;
                }
            }
            catch (Exception e) when (IsCallFailure(e))
            {
                // that member does not answer now: ask the next
            }
        }
        return null;
    }

    /// <summary>Waits (bounded) until every running member of the cluster names a leader.</summary>
    public async Task<bool> WaitForLeaderEverywhereAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            var all = true;
            foreach (var slot in MemberSlots)
            {
                try
                {
                    var status = await Channel(slot).UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Deadline()).ConfigureAwait(false);
                    all &= status.Leader != 0;
                }
                catch (Exception e) when (IsCallFailure(e))
                {
                    all = false;
                }
            }
            if (all)
            {
                return true;
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>MemberRemove through another member (retried within <paramref name="limit"/>), then the removed member
    /// is stopped: it stops by itself once it learns of its removal, or is killed if it does not within the
    /// limit (a member that is down never learns it).</summary>
    public async Task RemoveAsync(int slot, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        await RetryAsync($"remove {Name(slot)}", deadline, async via =>
        {
            var members = await ListAsync(via).ConfigureAwait(false);
            var member = members.Members.FirstOrDefault(m => m.PeerURLs.Contains(slots[slot].AdvertisedPeerUrl));
            if (member is not null)
            {
                await Channel(via).UnaryAsync(ClusterMethods.MemberRemove, new Pb.MemberRemoveRequest { ID = member.ID }, Deadline()).ConfigureAwait(false);
            }
        }, exclude: slot).ConfigureAwait(false);
        slots[slot].InCluster = false;
        if (slots[slot].Process is { } process && !process.HasExited)
        {
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(exit.Token).ConfigureAwait(false);
                log($"{Name(slot)} stopped by itself after its removal");
            }
            catch (OperationCanceledException)
            {
                log($"{Name(slot)} did not stop within 10 s of its removal: killed");
                Kill(slot);
            }
        }
    }

    /// <summary>MemberAdd (a careful client: an unknown outcome is followed by a member list), then starts the member
    /// with an empty data dir and <c>--initial-cluster-state existing</c>.</summary>
    public async Task<ulong> AddAndStartAsync(int slot, bool learner, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        ulong id = 0;
        await RetryAsync($"add {Name(slot)}", deadline, async via =>
        {
            var members = await ListAsync(via).ConfigureAwait(false);
            var listed = members.Members.FirstOrDefault(m => m.PeerURLs.Contains(slots[slot].AdvertisedPeerUrl));
            id = listed?.ID ?? (await Channel(via).UnaryAsync(ClusterMethods.MemberAdd,
                new Pb.MemberAddRequest { PeerURLs = { slots[slot].AdvertisedPeerUrl }, IsLearner = learner }, Deadline()).ConfigureAwait(false)).Member.ID;
        }, exclude: slot).ConfigureAwait(false);
        var data = DataDir(slot);
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
        slots[slot].InCluster = true;
        Start(slot, "existing");
        return id;
    }

    /// <summary>MemberPromote, retried within <paramref name="limit"/> while the learner is not in sync yet.</summary>
    public Task PromoteAsync(int slot, ulong id, TimeSpan limit) =>
        RetryAsync($"promote {Name(slot)}", DateTime.UtcNow + limit,
            via => Channel(via).UnaryAsync(ClusterMethods.MemberPromote, new Pb.MemberPromoteRequest { ID = id }, Deadline()), exclude: slot);

    /// <summary>Wipes a member's data dir (it must not be running).</summary>
    public void Wipe(int slot)
    {
        if (Directory.Exists(DataDir(slot)))
        {
            Directory.Delete(DataDir(slot), recursive: true);
        }
        slots[slot].Generation++;
    }

    public Task<Pb.MemberListResponse> ListAsync(int via) =>
        Channel(via).UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest(), Deadline());

    public static bool IsCallFailure(Exception e) => e is RpcException or HttpRequestException or OperationCanceledException or IOException or TimeoutException;

    public static CallOptions Deadline() => new(Deadline: DateTime.UtcNow + CallTimeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in started)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            process.Dispose();
        }
        foreach (var slot in slots)
        {
            slot.Channel.Dispose();
        }
        await network.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RetryAsync(string what, DateTime deadline, Func<int, Task> call, int exclude)
    {
        Exception? last = null;
        for (var attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            var candidates = MemberSlots.Where(s => s != exclude && IsRunning(s) && !slots[s].Paused).ToList();
            if (candidates.Count > 0)
            {
                try
                {
                    await call(candidates[attempt % candidates.Count]).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (IsCallFailure(e))
                {
                    last = e;
                }
            }
            await Task.Delay(500).ConfigureAwait(false);
        }
        throw new TimeoutException($"{what} did not succeed in time: {last?.Message}");
    }

    private string DataDir(int slot) => Path.Combine(Root, $"{slots[slot].Name}-g{slots[slot].Generation}.curpstore");

    private void Start(int slot, string state)
    {
        var s = slots[slot];
        s.JoinedExisting = state == "existing";
        var cluster = string.Join(',', slots.Where(x => x.InCluster).Select(x => $"{x.Name}={x.AdvertisedPeerUrl}"));
        string[] arguments = [ServerDll, "--name", s.Name, "--data-dir", DataDir(slot),
            "--listen-client-urls", s.ClientUrl, "--advertise-client-urls", s.ClientUrl,
            "--listen-peer-urls", s.AdvertisedPeerUrl, "--initial-advertise-peer-urls", s.AdvertisedPeerUrl,
            "--initial-cluster", cluster, "--initial-cluster-state", state, "--snapshot-count", "500", .. extraFlags];
        // `ip netns exec` execs the server in place, so the process id is the server's (kill -9 and SIGSTOP hit it).
        var info = RigRun.ExecInNamespace(s.Node.Namespace, [DotnetHost(), .. arguments]);
        info.WorkingDirectory = Root;
        info.RedirectStandardError = info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
        var output = new StreamWriter(LogPath(slot), append: true) { AutoFlush = true };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"=== faults: start {s.Name} generation {s.Generation} ({state}) pid {process.Id} at {DateTime.UtcNow:O}"));
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.WriteLine(e.Data); } } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.WriteLine(e.Data); } } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        started.Add(process);
        s.Process = process;
        s.Paused = false;
    }

    private void Signal(int slot, string signal, bool paused)
    {
        if (slots[slot].Process is not { HasExited: false } process)
        {
            return;
        }
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not run kill");
        kill.WaitForExit(10_000);
        slots[slot].Paused = paused;
    }

    private static string ServerDll => Path.Combine(AppContext.BaseDirectory, "CurpStore.Server.dll");

    /// <summary>The running <c>dotnet</c> host when there is one (tests), else the one the SDK names, else PATH's.</summary>
    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
    }

    private sealed class Slot(int index, RigNode node)
    {
        public int Index { get; } = index;

        /// <summary>The slot's namespace and address in the rig (named m1, m2... as the slots).</summary>
        public RigNode Node { get; } = node;

        public string Name => Node.Name;

        public string ClientUrl { get; } = RigPlan.ClientUrl(node);

        /// <summary>Where the member listens for peers and what every other member dials (their DNAT rules lead each
        /// of them through its own link proxy).</summary>
        public string AdvertisedPeerUrl { get; } = RigPlan.PeerUrl(node);

        public GrpcChannel Channel { get; } = new(new Uri(RigPlan.ClientUrl(node)));

        public Process? Process { get; set; }

        public bool InCluster { get; set; }

        public bool JoinedExisting { get; set; }

        public bool Paused { get; set; }

        public int Generation { get; set; }
    }
}
