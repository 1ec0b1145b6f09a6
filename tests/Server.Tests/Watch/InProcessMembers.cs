using System.Collections.Immutable;
using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Configuration;
using CurpStore.Server.Tests.Processes;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>Members of one cluster running in this test process (the real <see cref="ServerProcess"/>: WAL, host, peer
/// transport, client listener), each on free loopback ports with its own data dir, and a client channel to each.</summary>
internal sealed class InProcessMembers : IAsyncDisposable
{
    private readonly StringBuilder log = new();
    private readonly string root = Directory.CreateTempSubdirectory("curpstore-watch").FullName;
    private readonly HashSet<int> stopped = [];
    private List<ServerOptions> memberOptions = [];
    private TimeProvider? time;
    private List<ServerProcess> members = [];

    private InProcessMembers()
    {
    }

    public IReadOnlyList<ServerProcess> Members => members;

    public IReadOnlyList<GrpcChannel> Channels { get; private set; } = [];

    /// <summary>Each member's client URL, for requests the gRPC channel cannot make (raw HTTP/2, sockets).</summary>
    public IReadOnlyList<Uri> ClientUrls => [.. memberOptions.Select(options => options.ListenClientUrls[0])];

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="count"/> members (ServerOptions adjusted by <paramref name="configure"/>, token
    /// lifetimes on <paramref name="time"/>) and waits until each of them knows a leader.</summary>
    public static async Task<InProcessMembers> StartAsync(int count, Func<ServerOptions, ServerOptions>? configure = null, TimeProvider? time = null)
    {
        var cluster = new InProcessMembers { time = time };
        var ports = Enumerable.Range(0, count).Select(_ => (Client: ServerProcessHarness.FreePort(), Peer: ServerProcessHarness.FreePort())).ToList();
        var initial = ports.Select((p, i) => new InitialMember($"m{i}", new Uri($"http://127.0.0.1:{p.Peer}"))).ToImmutableArray();
        var members = new List<ServerProcess>();
        var allOptions = new List<ServerOptions>();
        for (var i = 0; i < count; i++)
        {
            var client = new Uri($"http://127.0.0.1:{ports[i].Client}");
            var options = new ServerOptions
            {
                Name = $"m{i}",
                DataDir = Path.Combine(cluster.root, $"m{i}"),
                ListenClientUrls = [client],
                AdvertiseClientUrls = [client],
                ListenPeerUrls = [initial[i].PeerUrl],
                InitialAdvertisePeerUrls = [initial[i].PeerUrl],
                InitialCluster = initial,
            };
            allOptions.Add(configure?.Invoke(options) ?? options);
            members.Add(cluster.Create(allOptions[i]));
        }
        cluster.memberOptions = allOptions;
        cluster.members = members;
        await Task.WhenAll(members.Select(m => m.StartAsync()));
        cluster.Channels = [.. ports.Select(p => new GrpcChannel(new Uri($"http://127.0.0.1:{p.Client}")))];
        foreach (var channel in cluster.Channels)
        {
            await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
        }
        return cluster;
    }

    /// <summary>The index of the member that member 0 reports as leader.</summary>
    public async Task<int> LeaderIndexAsync()
    {
        var status = await Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), new CallOptions(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10)));
        return members.FindIndex(m => m.MemberId == status.Leader);
    }

    /// <summary>Stops member <paramref name="index"/> (its listeners, host and storage), as a crash would leave the others.</summary>
    public async Task StopAsync(int index)
    {
        if (stopped.Add(index))
        {
            await Members[index].StopAsync();
        }
    }

    /// <summary>Starts a stopped member again on its data dir and ports (a new process object, as after a crash).</summary>
    public async Task RestartAsync(int index)
    {
        Assert.IsTrue(stopped.Remove(index), $"member {index} is running");
        members[index] = Create(memberOptions[index]);
        await members[index].StartAsync();
    }

    private ServerProcess Create(ServerOptions options) => new(options, line =>
    {
        lock (log)
        {
            log.AppendLine($"{options.Name}: {line}");
        }
    }, time);

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in Channels)
        {
            channel.Dispose();
        }
        for (var i = 0; i < Members.Count; i++)
        {
            await StopAsync(i);
        }
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // a file may still be held for a moment; the temp folder is cleaned by the system
        }
    }
}
