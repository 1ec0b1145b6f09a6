using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using CurpStore.Curp;
using CurpStore.Server;
using CurpStore.Server.Configuration;
using CurpStore.Tests.Shared;

namespace CurpStore.Client.Tests;

/// <summary>A cluster of real members (<see cref="ServerProcess"/>: WAL storage, node host, peer transport, etcd facade
/// and the client streams) hosted in the test process on free loopback ports, with short timeouts (50 ms heartbeat,
/// 500 ms election timeout) so leader changes take well under a second.</summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private static readonly HashSet<int> HandedOut = [];

    private readonly string root;
    private readonly ImmutableArray<InitialMember> initialCluster;
    private readonly List<(int ClientPort, int PeerPort)> ports;
    private readonly ServerProcess?[] members;
    private readonly List<DelayProxy> proxies = [];
    private readonly IReadOnlyList<int> advertisedClientPorts;

    private InProcessCluster(int size, string? parentDirectory, TimeSpan linkDelay)
    {
        root = parentDirectory is null
            ? Directory.CreateTempSubdirectory("curpstore-client-tests").FullName
            : Directory.CreateDirectory(Path.Combine(parentDirectory, $"curpstore-client-tests-{Guid.NewGuid():N}")).FullName;
        ports = [.. Enumerable.Range(0, size).Select(_ => (FreePort(), FreePort()))];
        // With a link delay every link goes through a delay proxy: members reach each other through their peers'
        // proxies (the peer URLs they advertise) and clients reach members through their client proxies.
        var advertisedPeerPorts = ports.Select(p => linkDelay > TimeSpan.Zero ? Proxy(p.PeerPort, linkDelay) : p.PeerPort).ToList();
        advertisedClientPorts = [.. ports.Select(p => linkDelay > TimeSpan.Zero ? Proxy(p.ClientPort, linkDelay) : p.ClientPort)];
        initialCluster = [.. advertisedPeerPorts.Select((port, i) => new InitialMember($"m{i + 1}", new Uri($"http://127.0.0.1:{port}")))];
        members = new ServerProcess?[size];
    }

    public IReadOnlyList<string> Endpoints => [.. advertisedClientPorts.Select(port => $"http://127.0.0.1:{port}")];

    public IReadOnlyList<ServerProcess?> Members => members;

    /// <summary>Starts the members; <paramref name="parentDirectory"/> holds their data (default: the temp folder);
    /// <paramref name="linkDelay"/> is the one-way delay of every link, between members and from clients.</summary>
    public static async Task<InProcessCluster> StartAsync(int size = 3, string? parentDirectory = null, TimeSpan linkDelay = default)
    {
        var cluster = new InProcessCluster(size, parentDirectory, linkDelay);
        for (var i = 0; i < size; i++)
        {
            await cluster.StartMemberAsync(i);
        }
        await cluster.WaitForLeaderAsync();
        return cluster;
    }

    public async Task StartMemberAsync(int index)
    {
        var (clientPort, peerPort) = ports[index];
        var options = new ServerOptions
        {
            Name = $"m{index + 1}",
            DataDir = Path.Combine(root, $"m{index + 1}"),
            ListenClientUrls = [new Uri($"http://127.0.0.1:{clientPort}")],
            AdvertiseClientUrls = [new Uri($"http://127.0.0.1:{clientPort}")],
            ListenPeerUrls = [new Uri($"http://127.0.0.1:{peerPort}")],
            InitialAdvertisePeerUrls = [initialCluster[index].PeerUrl],
            InitialCluster = initialCluster,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 500,
        };
        var member = new ServerProcess(options, _ => { });
        await member.StartAsync();
        members[index] = member;
    }

    /// <summary>Stops a member the way SIGTERM does (listeners closed, loop flushed); its streams end.</summary>
    public async Task StopMemberAsync(int index)
    {
        if (members[index] is { } member)
        {
            members[index] = null;
            await member.StopAsync();
        }
    }

    /// <summary>The index of the member every running member agrees leads (bounded wait).</summary>
    public async Task<int> WaitForLeaderAsync()
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var running = members.Where(m => m is not null).Select(m => m!).ToList();
            var leaders = running.Select(m => m.Host.Status.LeaderId).Distinct().ToList();
            if (leaders is [var leader] && leader != 0)
            {
                var index = Array.FindIndex(members, m => m?.MemberId == leader);
                if (index >= 0 && members[index]!.Host.Status.Role == NodeRole.Leader)
                {
                    return index;
                }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("no leader agreed on within 15 s");
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < members.Length; i++)
        {
            await StopMemberAsync(i);
        }
        foreach (var proxy in proxies)
        {
            await proxy.DisposeAsync();
        }
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // the system cleans temp folders
        }
    }

    private int Proxy(int targetPort, TimeSpan delay)
    {
        var proxy = new DelayProxy(targetPort, delay);
        proxies.Add(proxy);
        return proxy.Port;
    }

    /// <summary>A free port below the kernel's ephemeral range (32768 and up on Linux): a port picked there could be
    /// handed to an outgoing connection or a port-0 listener (the delay proxies) before its member binds it. Ports
    /// handed out once are not handed out again in this process.</summary>
    private static int FreePort()
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(20_000, 32_000);
                if (HandedOut.Contains(port))
                {
                    continue;
                }
                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue; // taken by another job
                }
                HandedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("no free port between 20000 and 32000");
    }
}
