using System.Collections.Concurrent;
using System.Collections.Immutable;
using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;
using CurpStore.Server.Hosting;

namespace CurpStore.Server.Tests;

/// <summary>Three real hosts (threads, timers, bounded inboxes) over an in-process transport.</summary>
[TestClass]
public sealed class NodeHostTests
{
    private sealed class InProcessNetwork : IPeerTransport
    {
        private readonly ConcurrentDictionary<ulong, NodeHost> byEndpoint = new();

        public ConcurrentDictionary<ulong, bool> Down { get; } = new();

        /// <summary>Sees every message as a host hands it to the network, on the sending host's loop thread.</summary>
        public Action<Message>? OnSend { get; set; }

        public void Attach(NodeHost host)
        {
            byEndpoint[host.NodeId] = host;
            byEndpoint[host.ProposerId] = host;
        }

        public void Send(Message message)
        {
            OnSend?.Invoke(message);
            if (byEndpoint.TryGetValue(message.To, out var host) && !Down.ContainsKey(host.NodeId) && !Down.ContainsKey(MemberOf(message.From)))
            {
                host.Deliver(message);
            }
        }

        /// <summary>Proposer ids are 1000 + the id of the member whose host runs them.</summary>
        private static ulong MemberOf(ulong endpoint) => endpoint >= 1_000 ? endpoint - 1_000 : endpoint;
    }

    private sealed class Cluster : IAsyncDisposable
    {
        private static readonly Membership Members = Membership.Of([1UL, 2UL, 3UL]);

        public InProcessNetwork Network { get; } = new();

        public Dictionary<ulong, NodeHost> Hosts { get; } = [];

        public Dictionary<ulong, InMemoryMemberStorage> Disks { get; } = [];

        public Dictionary<ulong, KvStateMachine> Machines { get; } = [];

        /// <summary>Ticks after which the leader expires an idle client session (null: the core's default).</summary>
        public int? SessionIdleTicks { get; init; }

        /// <summary>Sees every batch a host persists (host id, batch), on that host's loop thread, before it is stored.</summary>
        public Action<ulong, Ready>? OnPersist { get; init; }

        public static Cluster Start(int? sessionIdleTicks = null, Action<ulong, Ready>? onPersist = null)
        {
            var cluster = new Cluster { SessionIdleTicks = sessionIdleTicks, OnPersist = onPersist };
            foreach (var id in Members.Voters)
            {
                cluster.Disks[id] = new InMemoryMemberStorage();
                cluster.StartHost(id);
            }
            return cluster;
        }

        public void StartHost(ulong id)
        {
            var machine = new KvStateMachine();
            var host = new NodeHost(
                new HostOptions
                {
                    Node = SessionIdleTicks is { } idleTicks
                        ? new NodeConfig { NodeId = id, RandomSeed = id * 31, ElectionTimeoutTicks = 10, HeartbeatTicks = 1, SessionIdleTicks = idleTicks }
                        : new NodeConfig { NodeId = id, RandomSeed = id * 31, ElectionTimeoutTicks = 10, HeartbeatTicks = 1 },
                    TickInterval = TimeSpan.FromMilliseconds(10),
                    ProposerId = 1_000 + id,
                    ProposerRetryTicks = 20,
                },
                Members, machine, OnPersist is { } onPersist ? new ObservedStorage(Disks[id], ready => onPersist(id, ready)) : Disks[id], Network);
            Machines[id] = machine;
            Hosts[id] = host;
            Network.Attach(host);
            host.Start();
        }

        public async Task<NodeHost> WaitForLeaderAsync()
        {
            for (var i = 0; i < 500; i++)
            {
                var leaders = Hosts.Values.Where(h => !Network.Down.ContainsKey(h.NodeId) && h.Status.Role == NodeRole.Leader).ToList();
                if (leaders.Count == 1)
                {
                    return leaders[0];
                }
                await Task.Delay(10);
            }
            throw new TimeoutException("no leader within 5 s");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var host in Hosts.Values)
            {
                await host.DisposeAsync();
            }
        }
    }

    private sealed class ObservedStorage(IMemberStorage inner, Action<Ready> onPersist) : IMemberStorage
    {
        public PersistentState Load() => inner.Load();

        public void Persist(Ready ready)
        {
            onPersist(ready);
            inner.Persist(ready);
        }
    }

    private static Task<Completion> Put(NodeHost host, string key, string value) =>
        host.ProposeAsync(id => new KvCommand(id, KvOperation.Put, key, value)).WaitAsync(TimeSpan.FromSeconds(20));

    [TestMethod]
    public async Task WritesThroughEveryHost_CompleteAndEveryMemberAppliesThem()
    {
        await using var cluster = Cluster.Start();
        await cluster.WaitForLeaderAsync();
        var writes = Enumerable.Range(0, 300).Select(i => Put(cluster.Hosts[(ulong)(i % 3 + 1)], $"k{i}", $"v{i}")).ToList();
        var completions = await Task.WhenAll(writes);
        Assert.IsTrue(completions.All(c => c.Succeeded), string.Join(", ", completions.Where(c => !c.Succeeded).Select(c => c.Error).Distinct()));
        Assert.IsTrue(completions.Any(c => c.Path is CompletionPath.Fast or CompletionPath.CommitNotice), "disjoint keys should not all wait for the leader's apply");
        var target = completions.Max(c => ((KvResult)c.Result!).ModRevision);
        var read = await cluster.Hosts[2].ReadAsync(id => new KvCommand(id, KvOperation.Get, "k299")).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.AreEqual("v299", ((KvResult)read.Result!).Value);
        for (var i = 0; i < 500 && cluster.Machines.Values.Any(m => m.Revision < target); i++)
        {
            await Task.Delay(10);
        }
        Assert.AreEqual(1, cluster.Machines.Values.Select(m => m.StateDigest()).Distinct().Count(), "replicas differ");
    }

    /// <summary>Raft thesis 10.2.1, as etcd does it: the leader sends its new entries to the followers before it
    /// writes them itself, so its fsync overlaps theirs instead of adding to every write's latency.</summary>
    [TestMethod]
    public async Task TheLeadersAppends_LeaveBeforeItsOwnWriteOfTheSameEntries()
    {
        var events = new ConcurrentQueue<(bool Persist, ulong Host, ulong LastIndex)>();
        await using var cluster = Cluster.Start(onPersist: (id, ready) =>
        {
            if (!ready.Entries.IsEmpty)
            {
                events.Enqueue((true, id, ready.Entries[^1].Index));
            }
        });
        cluster.Network.OnSend = message =>
        {
            if (message is AppendRequest { Entries.IsEmpty: false } append)
            {
                events.Enqueue((false, append.From, append.Entries[^1].Index));
            }
        };
        var leader = await cluster.WaitForLeaderAsync();
        var completions = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Put(leader, $"early/{i}", "v")));
        Assert.IsTrue(completions.All(c => c.Succeeded), string.Join(", ", completions.Select(c => c.Error).Distinct()));

        var log = events.ToList();
        var leaderWrites = log.Select((e, position) => (e, position)).Where(x => x.e.Persist && x.e.Host == leader.NodeId).ToList();
        Assert.IsNotEmpty(leaderWrites);
        var overlapped = leaderWrites.Count(write => log.Take(write.position).Any(e => !e.Persist && e.Host == leader.NodeId && e.LastIndex >= write.e.LastIndex));
        Assert.IsGreaterThan(0, overlapped, $"none of the leader's {leaderWrites.Count} writes had its entries sent before it");
    }

    /// <summary>The leader expires the hosts' idle sessions; the next write through each host still succeeds, as
    /// etcd's writes do after any pause (a write refused for its expired session is proposed again under a new one).</summary>
    [TestMethod]
    public async Task WritesAfterTheLeaderExpiredTheHostsIdleSessions_Succeed()
    {
        await using var cluster = Cluster.Start(sessionIdleTicks: 40);
        var leader = await cluster.WaitForLeaderAsync();
        var first = await Task.WhenAll(cluster.Hosts.Values.Select(h => Put(h, $"before{h.NodeId}", "1")));
        Assert.IsTrue(first.All(c => c.Succeeded), string.Join(", ", first.Select(c => c.Error).Distinct()));

        // Bounded wait until the leader has expired all three hosts' sessions (no writes meanwhile).
        var expired = 0L;
        for (var i = 0; i < 2_000 && expired < 3; i++)
        {
            expired = await leader.InvokeAsync(node => node.Counters.SessionsExpired, CancellationToken.None);
            await Task.Delay(10);
        }
        Assert.IsGreaterThanOrEqualTo(3L, expired, "the leader never expired the idle sessions");

        var after = await Task.WhenAll(cluster.Hosts.Values.Select(h => Put(h, $"after{h.NodeId}", "2")));
        Assert.IsTrue(after.All(c => c.Succeeded), $"writes after the idle expiry failed: {string.Join(", ", after.Select(c => c.Error).Distinct())}");
    }

    [TestMethod]
    public async Task LeaderStops_ANewLeaderServes_AndTheRestartedMemberCatchesUp()
    {
        await using var cluster = Cluster.Start();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Hosts.Values.First(h => h != leader);
        var before = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Put(follower, $"a{i}", "1")));
        Assert.IsTrue(before.All(c => c.Succeeded));

        cluster.Network.Down[leader.NodeId] = true;
        await leader.DisposeAsync();
        var newLeader = await cluster.WaitForLeaderAsync();
        Assert.AreNotEqual(leader.NodeId, newLeader.NodeId);
        var after = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Put(follower, $"b{i}", "2")));
        Assert.IsTrue(after.All(c => c.Succeeded), string.Join(", ", after.Select(c => c.Error).Distinct()));

        // The old leader restarts from its storage and catches up.
        cluster.Network.Down.TryRemove(leader.NodeId, out _);
        cluster.StartHost(leader.NodeId);
        var restarted = cluster.Machines[leader.NodeId];
        for (var i = 0; i < 1_000 && restarted.Get("b49") is null; i++)
        {
            await Task.Delay(10);
        }
        Assert.AreEqual("2", restarted.Get("b49")?.Data, "the restarted member did not catch up");
        Assert.AreEqual("1", restarted.Get("a0")?.Data);
    }

    [TestMethod]
    public async Task AFullInbox_RefusesWithTooManyRequests_InsteadOfQueueingWithoutBound()
    {
        var storage = new InMemoryMemberStorage();
        await using var host = new NodeHost(
            new HostOptions { Node = new NodeConfig { NodeId = 1, RandomSeed = 1 }, ProposerId = 1_001, InboxCapacity = 4, TickInterval = TimeSpan.FromHours(1) },
            Membership.Of([1UL, 2UL, 3UL]), new KvStateMachine(), storage, new InProcessNetwork());
        // Not started: nothing drains the inbox, so the fifth input must be refused at once.
        var results = Enumerable.Range(0, 5).Select(i => host.ProposeAsync(id => new KvCommand(id, KvOperation.Put, $"k{i}", "v"))).ToList();
        var refused = await results[4];
        Assert.AreEqual(ProposeError.TooManyRequests, refused.Error);
        Assert.IsFalse(results[0].IsCompleted);
    }

    /// <summary>The host holds at most MaxPendingRequests client requests: while its loop is busy, the ones over the
    /// bound are refused at once with TooManyRequests; the admitted ones all succeed, and answered ones free their room.</summary>
    [TestMethod]
    public async Task RequestsOverThePendingBound_AreRefusedAtOnce_AndAnsweredOnesFreeTheirRoom()
    {
        const int bound = 8;
        await using var host = new NodeHost(
            new HostOptions
            {
                Node = new NodeConfig { NodeId = 1, RandomSeed = 1, ElectionTimeoutTicks = 10, HeartbeatTicks = 1 },
                ProposerId = 1_001,
                MaxPendingRequests = bound,
                TickInterval = TimeSpan.FromMilliseconds(10),
            },
            Membership.Of([1UL]), new KvStateMachine(), new InMemoryMemberStorage(), new InProcessNetwork());
        host.Start();
        for (var i = 0; i < 500 && host.Status.Role != NodeRole.Leader; i++)
        {
            await Task.Delay(10);
        }
        Assert.AreEqual(NodeRole.Leader, host.Status.Role, "a single member elects itself");
        Assert.IsTrue((await Put(host, "warm", "up")).Succeeded);

        // Hold the loop so that nothing offered now is answered until the gate opens.
        using var gate = new ManualResetEventSlim();
        var held = host.InvokeAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));
        var offered = Enumerable.Range(0, bound + 5).Select(i => host.ProposeAsync(id => new KvCommand(id, KvOperation.Put, $"k{i}", "v"))).ToList();
        var read = host.ReadAsync(id => new KvCommand(id, KvOperation.Get, "k0"));
        Assert.AreEqual(bound, host.PendingRequests);
        foreach (var refused in offered.Skip(bound).Append(read))
        {
            Assert.IsTrue(refused.IsCompleted, "a request over the bound waits for nothing");
            Assert.AreEqual(ProposeError.TooManyRequests, (await refused).Error);
        }
        Assert.IsTrue(offered.Take(bound).All(t => !t.IsCompleted));

        gate.Set();
        Assert.IsTrue(await held);
        var admitted = await Task.WhenAll(offered.Take(bound)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.IsTrue(admitted.All(c => c.Succeeded), string.Join(", ", admitted.Select(c => c.Error).Distinct()));
        Assert.AreEqual(0, host.PendingRequests);
        var again = await Task.WhenAll(Enumerable.Range(0, bound).Select(i => Put(host, $"again{i}", "v")));
        Assert.IsTrue(again.All(c => c.Succeeded), "answered requests gave their room back");
    }
}
