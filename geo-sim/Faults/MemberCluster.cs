using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CurpStore.Rig;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults;

/// <summary>
/// The CurpStore member processes of one fault run on loopback, one slot per member (the spare slot is the member the
/// membership changes add and remove). Each member's peer port sits behind a cuttable proxy (the rig's
/// <see cref="DelayProxy"/> with no delay): the others dial the proxy, so cutting it partitions the member from every
/// peer that talks to it. Starts, kills (SIGKILL), pauses (SIGSTOP/SIGCONT), wipes and rejoins members; ends only the
/// processes it started.
/// </summary>
internal sealed class MemberCluster : IAsyncDisposable
{
    /// <summary>Bound on one cluster call (member list, add, remove, promote, status).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly Slot[] slots;
    private readonly IReadOnlyList<string> extraFlags;
    private readonly Action<string> log;
    private readonly List<Process> started = [];

    /// <param name="root">Folder for data dirs and member logs.</param>
    /// <param name="voters">Members at the start.</param>
    /// <param name="extraFlags">Flags every member gets (for example <c>--strict-revisions</c>).</param>
    /// <param name="log">Progress lines.</param>
    public MemberCluster(string root, int voters, IReadOnlyList<string> extraFlags, Action<string> log)
    {
        Root = root;
        Voters = voters;
        this.extraFlags = extraFlags;
        this.log = log;
        slots = [.. Enumerable.Range(0, voters + 1).Select(i => new Slot(i, FreePort(), FreePort()))];
        foreach (var slot in slots)
        {
            slot.Proxy = new DelayProxy(new IPEndPoint(IPAddress.Loopback, slot.AdvertisedPeerPort), new IPEndPoint(IPAddress.Loopback, slot.PeerPort), new LinkDelay(0, 0), slot.Index);
            slot.Channel = new GrpcChannel(new Uri(slot.ClientUrl));
        }
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

    public void Cut(int slot) => slots[slot].Proxy.CutForward();

    public void Heal(int slot) => slots[slot].Proxy.Heal();

    /// <summary>Undoes every fault: resumes paused members, heals cut links, restarts members of the cluster that are
    /// down.</summary>
    public void HealAll()
    {
        foreach (var slot in slots)
        {
            if (slot.Paused)
            {
                Resume(slot.Index);
            }
            slot.Proxy.Heal();
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
            await slot.Proxy.DisposeAsync().ConfigureAwait(false);
        }
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
            "--listen-peer-urls", $"http://127.0.0.1:{s.PeerPort}", "--initial-advertise-peer-urls", s.AdvertisedPeerUrl,
            "--initial-cluster", cluster, "--initial-cluster-state", state, "--snapshot-count", "500", .. extraFlags];
        var info = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = Root, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Slot(int index, int clientPort, int peerPort)
    {
        public int Index { get; } = index;

        public string Name { get; } = $"m{index + 1}";

        public string ClientUrl { get; } = $"http://127.0.0.1:{clientPort}";

        public int PeerPort { get; } = peerPort;

        /// <summary>The proxy's port, which the other members dial.</summary>
        public int AdvertisedPeerPort { get; } = FreePort();

        public string AdvertisedPeerUrl => $"http://127.0.0.1:{AdvertisedPeerPort}";

        public DelayProxy Proxy { get; set; } = null!;

        public GrpcChannel Channel { get; set; } = null!;

        public Process? Process { get; set; }

        public bool InCluster { get; set; }

        public bool JoinedExisting { get; set; }

        public bool Paused { get; set; }

        public int Generation { get; set; }
    }
}
