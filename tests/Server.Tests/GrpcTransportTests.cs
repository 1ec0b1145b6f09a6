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
}
