using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CurpStore.GeoSim;
using CurpStore.Rig;

// The WAN rig's command line; see the README's "WAN rig" section.
const string Usage = """
    usage: rig up --topology FILE [--system curpstore|etcd|none] [--members N] [--client-regions R1,R2]
                  [--rtt-samples N] [--seed N] [--state-dir DIR] [-- MEMBER FLAGS...]
           rig cut A B | heal A B | cut-region R | heal-region R | heal-all | status | endpoints | rtt [SAMPLES]
           rig exec (--region R | --node NAME) -- COMMAND...
           rig down
    Every command takes --state-dir DIR (default /tmp/curpstore-rig): where a run keeps its data, logs and control socket.
    """;

try
{
    return await MainAsync(args);
}
catch (Exception e) when (e is RigException or TopologyException or FormatException)
{
    Console.Error.WriteLine("rig: " + e.Message);
    return 1;
}

static async Task<int> MainAsync(string[] args)
{
    var (options, rest) = SplitOptions(args);
    var stateDirectory = options.GetValueOrDefault("state-dir") ?? Path.Combine(Path.GetTempPath(), "curpstore-rig");
    var controlSocket = Path.Combine(stateDirectory, "control.sock");
    var currentRun = Path.Combine(stateDirectory, "current");
    switch (rest)
    {
        case ["up", .. var memberFlags]:
            return await UpAsync(options, memberFlags, stateDirectory, controlSocket, currentRun);
        case ["exec", .. var command] when command.Length > 0:
            return Exec(options, command, currentRun);
        case ["down"]:
            return await DownAsync(controlSocket, currentRun);
        case [var verb, ..] when verb is "cut" or "heal" or "cut-region" or "heal-region" or "heal-all" or "status" or "endpoints" or "rtt":
            Console.Write(await RigControl.SendAsync(controlSocket, string.Join(' ', rest)));
            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

// "--name value" pairs before the first positional word or "--"; after "--", everything is positional.
static (Dictionary<string, string> Options, string[] Words) SplitOptions(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    var rest = new List<string>();
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] == "--")
        {
            rest.AddRange(args.Skip(i + 1));
            break;
        }
        if (args[i].StartsWith("--", StringComparison.Ordinal))
        {
            if (i + 1 >= args.Length)
            {
                throw new RigException($"{args[i]} needs a value");
            }
            options[args[i][2..]] = args[++i];
        }
        else
        {
            rest.Add(args[i]);
        }
    }
    return (options, [.. rest]);
}

static int Int(Dictionary<string, string> options, string name, int fallback) =>
    options.TryGetValue(name, out var value) ? int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;

static async Task<int> UpAsync(Dictionary<string, string> options, string[] memberFlags, string stateDirectory, string controlSocket, string currentRun)
{
    var topologyPath = options.GetValueOrDefault("topology") ?? throw new RigException("up needs --topology FILE (e.g. geo-sim/topologies/three-regions.json)");
    if (File.Exists(currentRun))
    {
        throw new RigException($"a run is recorded in {currentRun}; stop it first with `down --state-dir {stateDirectory}`");
    }
    var rigOptions = new RigOptions
    {
        Topology = TopologyLoader.Load(TopologyLoader.ResolvePath(topologyPath)),
        System = options.GetValueOrDefault("system") ?? "curpstore",
        Members = Int(options, "members", 3),
        ClientRegions = options.TryGetValue("client-regions", out var regions) ? regions.Split(',') : null,
        StateDirectory = stateDirectory,
        MemberFlags = memberFlags,
        Seed = Int(options, "seed", 1),
    };
    var rttSamples = Int(options, "rtt-samples", 21);
    await using var rig = await RigRun.StartAsync(rigOptions);
    // What `down` and `exec` need when this process is gone: the run's name, the namespaces, the members' pids.
    await File.WriteAllLinesAsync(currentRun, [
        rig.Plan.RunName,
        .. rig.Plan.Nodes.Select(n => $"node {n.Name} {n.Namespace} {n.Region}"),
        .. rig.MemberProcesses.Values.Select(p => $"pid {p.Id}"),
    ]);
    try
    {
        await using var control = new RigControl(rig, controlSocket);
        Console.Write(rig.Endpoints());
        if (rigOptions.System != "none")
        {
            await rig.WaitForMembersAsync(TimeSpan.FromSeconds(120));
        }
        if (rttSamples > 0)
        {
            Console.Write((await rig.MeasureRttAsync(rttSamples)).ToTable());
        }
        Console.WriteLine($"ready; control with `rig cut|heal|status|rtt|exec|down --state-dir {stateDirectory}`, or Ctrl-C");
        using var interrupted = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, control));
        using var terminated = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, control));
        await control.DownRequested.Task;
        Console.WriteLine("stopping: members, proxies, namespaces");
    }
    finally
    {
        File.Delete(controlSocket);
        File.Delete(currentRun);
    }
    return 0;
}

static void Stop(PosixSignalContext context, RigControl control)
{
    context.Cancel = true; // the rig removes what it made before exiting
    control.DownRequested.TrySetResult();
}

static int Exec(Dictionary<string, string> options, string[] command, string currentRun)
{
    var wanted = options.GetValueOrDefault("node") ?? (options.TryGetValue("region", out var region) ? "client-" + region : throw new RigException("exec needs --region R or --node NAME"));
    var nodes = ReadRun(currentRun).Nodes;
    var networkNamespace = nodes.FirstOrDefault(n => n.Name == wanted).Namespace
        ?? throw new RigException($"no node {wanted} in the running rig (nodes: {string.Join(", ", nodes.Select(n => n.Name))})");
    using var process = Process.Start(RigRun.ExecInNamespace(networkNamespace, command))!;
    process.WaitForExit();
    return process.ExitCode;
}

static async Task<int> DownAsync(string controlSocket, string currentRun)
{
    try
    {
        Console.Write(await RigControl.SendAsync(controlSocket, "down"));
        for (var i = 0; i < 600 && File.Exists(currentRun); i++)
        {
            await Task.Delay(100); // the rig removes the file when it has cleaned up
        }
        return 0;
    }
    catch (RigException)
    {
        // No rig answers: it crashed or was killed. Clean up after it from what it recorded.
    }
    if (!File.Exists(currentRun))
    {
        Console.WriteLine("no rig is running");
        return 0;
    }
    var (runName, _, pids) = ReadRun(currentRun);
    foreach (var pid in pids)
    {
        try
        {
            using var member = Process.GetProcessById(pid);
            member.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // already gone
        }
    }
    HostNetwork.Remove(runName);
    File.Delete(currentRun);
    File.Delete(controlSocket);
    Console.WriteLine($"removed what run {runName} left behind");
    return 0;
}

static (string RunName, List<(string Name, string Namespace)> Nodes, List<int> Pids) ReadRun(string currentRun)
{
    if (!File.Exists(currentRun))
    {
        throw new RigException($"no rig is running ({currentRun} does not exist)");
    }
    var lines = File.ReadAllLines(currentRun);
    var nodes = lines.Select(l => l.Split(' ')).Where(w => w is ["node", _, _, _]).Select(w => (w[1], w[2])).ToList();
    var pids = lines.Select(l => l.Split(' ')).Where(w => w is ["pid", _]).Select(w => int.Parse(w[1], CultureInfo.InvariantCulture)).ToList();
    return (lines[0], nodes, pids);
}
