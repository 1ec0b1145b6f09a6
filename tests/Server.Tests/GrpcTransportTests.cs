using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;
using CurpStore.Rpc;
using CurpStore.Server.Hosting;
using CurpStore.Server.Transport;
using CurpStore.Wire;

namespace CurpStore.Server.Tests;

/// <summary>Three hosts talking real gRPC over HTTP/2 on loopback.</summary>
[TestClass]
public sealed class GrpcTransportTests
{
    private const ulong ProposerOffset = 1_000;

    [TestMethod]
    public async Task ThreeHostsOverGrpc_ElectALeader_CommitWrites_AndConverge()
    {
        var ids = new ulong[] { 1, 2, 3 };
        var members = Membership.Of(ids);
        var codec = new WireCodec(new KvCommandCodec());
        var servers = new Dictionary<ulong, GrpcServer>();
        var hosts = new Dictionary<ulong, NodeHost>();
        var machines = new Dictionary<ulong, KvStateMachine>();
        var transports = new List<GrpcPeerTransport>();
        var addresses = new Dictionary<ulong, Uri>();
        try
        {
            foreach (var id in ids)
            {
                var server = new GrpcServer();
                servers[id] = server;
                new CurpDeliveryService(codec, m => hosts[m.To >= ProposerOffset ? m.To - ProposerOffset : m.To].Deliver(m)).Register(server);
                await server.ListenAsync([new Uri("http://127.0.0.1:0")]);
                addresses[id] = server.ListeningAddresses[0];
            }
            foreach (var id in ids)
            {
                var transport = new GrpcPeerTransport(codec, to => addresses.GetValueOrDefault(to >= ProposerOffset ? to - ProposerOffset : to));
                transports.Add(transport);
                machines[id] = new KvStateMachine();
                hosts[id] = new NodeHost(
                    new HostOptions
                    {
                        Node = new NodeConfig { NodeId = id, RandomSeed = id, ElectionTimeoutTicks = 10, HeartbeatTicks = 1 },
                        TickInterval = TimeSpan.FromMilliseconds(20),
                        ProposerId = ProposerOffset + id,
                    },
                    members, machines[id], new InMemoryMemberStorage(), transport);
            }
            foreach (var host in hosts.Values)
            {
                host.Start();
            }
            var writes = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
                hosts[(ulong)(i % 3 + 1)].ProposeAsync(id => new KvCommand(id, KvOperation.Put, $"k{i}", $"v{i}")).WaitAsync(TimeSpan.FromSeconds(30))));
            Assert.IsTrue(writes.All(w => w.Succeeded), string.Join(", ", writes.Select(w => w.Error).Distinct()));
            for (var i = 0; i < 500 && machines.Values.Any(m => m.Get("k59") is null); i++)
            {
                await Task.Delay(10);
            }
            Assert.AreEqual(1, machines.Values.Select(m => m.StateDigest()).Distinct().Count(), "replicas differ");
            Assert.IsTrue(transports.All(t => t.Dropped < 100), "the transport dropped many messages on a healthy loopback");
        }
        finally
        {
            foreach (var host in hosts.Values)
            {
                await host.DisposeAsync();
            }
            foreach (var transport in transports)
            {
                await transport.DisposeAsync();
            }
            foreach (var server in servers.Values)
            {
                await server.DisposeAsync();
            }
        }
    }

    [TestMethod]
    public async Task APeerThatComesUpLate_IsLoggedUnreachableThenReachable_AndGetsMessagesInOrder()
    {
        var codec = new WireCodec(new KvCommandCodec());
        var port = Processes.ServerProcessHarness.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var received = new System.Collections.Concurrent.ConcurrentQueue<ulong>();
        var transport = new GrpcPeerTransport(codec, to => to == 2 ? address : null,
            new TransportOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) }, log.Enqueue);
        var server = new GrpcServer();
        try
        {
            ulong term = 0;
            async Task SendUntil(Func<bool> done)
            {
                for (var i = 0; i < 3_000 && !done(); i++)
                {
                    transport.Send(new TimeoutNow(1, 2, ++term));
                    await Task.Delay(5);
                }
            }
            await SendUntil(() => log.Any(l => l.Contains("unreachable", StringComparison.Ordinal)));
            Assert.IsTrue(log.Any(l => l.Contains($"peer {address} is unreachable", StringComparison.Ordinal)), string.Join("\n", log));

            new CurpDeliveryService(codec, m =>
            {
                received.Enqueue(((TimeoutNow)m).Term);
                return true;
            }).Register(server);
            await server.ListenAsync([address]);
            await SendUntil(() => received.Count >= 50);
            Assert.IsTrue(received.Count >= 50, $"only {received.Count} messages arrived");
            var arrived = received.ToArray();
            CollectionAssert.AreEqual(arrived.Order().ToArray(), arrived, "one call at a time keeps the order");
            Assert.IsTrue(log.Any(l => l.Contains($"peer {address} is reachable again", StringComparison.Ordinal)), string.Join("\n", log));
            Assert.AreEqual(1, log.Count(l => l.Contains("unreachable", StringComparison.Ordinal)), "one line per change, not per failed attempt");
        }
        finally
        {
            await transport.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task APeerThatRestarts_GetsMessagesAgain()
    {
        var codec = new WireCodec(new KvCommandCodec());
        var address = new Uri($"http://127.0.0.1:{Processes.ServerProcessHarness.FreePort()}");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var transport = new GrpcPeerTransport(codec, to => to == 2 ? address : null,
            new TransportOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) }, log.Enqueue);
        ulong term = 0;
        async Task<int> DeliverToNewServer()
        {
            var received = 0;
            var server = new GrpcServer();
            new CurpDeliveryService(codec, _ => Interlocked.Increment(ref received) > 0).Register(server);
            await server.ListenAsync([address]);
            for (var i = 0; i < 2_000 && Volatile.Read(ref received) < 20; i++)
            {
                transport.Send(new TimeoutNow(1, 2, ++term));
                await Task.Delay(5);
            }
            await server.DisposeAsync(); // the peer goes away with the sender's stream still open
            return received;
        }
        try
        {
            Assert.IsTrue(await DeliverToNewServer() >= 20, "the first incarnation got messages");
            Assert.IsTrue(await DeliverToNewServer() >= 20, "the restarted peer got messages: its restart was noticed");
        }
        finally
        {
            await transport.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task ASnapshotWhoseFileIsGone_IsDropped_NotThrownIntoTheMembersLoop()
    {
        var codec = new WireCodec(new KvCommandCodec());
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var transport = new GrpcPeerTransport(codec, _ => new Uri("http://127.0.0.1:1"), log: log.Enqueue);
        try
        {
            var gone = new SnapshotFile(Path.Combine(Path.GetTempPath(), $"curpstore-gone-{Guid.NewGuid():N}.snap"), 100, 9, codec.Commands);
            var snapshot = new Snapshot(9, 1, Membership.Of([1UL, 2UL]), SessionTableImage.Empty(8), gone);
            transport.Send(new InstallSnapshotRequest(1, 2, 1, snapshot));
            Assert.AreEqual(1, transport.Dropped);
            Assert.IsTrue(log.Any(l => l.Contains("is missing", StringComparison.Ordinal)), string.Join("\n", log));
        }
        finally
        {
            await transport.DisposeAsync();
        }
    }
}
