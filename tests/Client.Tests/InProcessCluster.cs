using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using CurpStore.Curp;
using CurpStore.Server;
using CurpStore.Server.Configuration;

namespace CurpStore.Client.Tests;

/// <summary>A cluster of real members (<see cref="ServerProcess"/>: WAL storage, node host, peer transport, etcd facade
/// and the client streams) hosted in the test process on free loopback ports, with short timeouts (50 ms heartbeat,
/// 500 ms election timeout) so leader changes take well under a second.</summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("curpstore-client-tests").FullName;
    private readonly ImmutableArray<InitialMember> initialCluster;
    private readonly List<(int ClientPort, int PeerPort)> ports;
    private readonly ServerProcess?[] members;

    private InProcessCluster(int size)
    {
        ports = [.. Enumerable.Range(0, size).Select(_ => (FreePort(), FreePort()))];
        initialCluster = [.. ports.Select((p, i) => new InitialMember($"m{i + 1}", new Uri($"http://127.0.0.1:{p.PeerPort}")))];
        members = new ServerProcess?[size];
    }

    public IReadOnlyList<string> Endpoints => [.. ports.Select(p => $"http://127.0.0.1:{p.ClientPort}")];

    public IReadOnlyList<ServerProcess?> Members => members;

    public static async Task<InProcessCluster> StartAsync(int size = 3)
    {
        var cluster = new InProcessCluster(size);
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
            InitialAdvertisePeerUrls = [new Uri($"http://127.0.0.1:{peerPort}")],
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
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // the system cleans temp folders
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
