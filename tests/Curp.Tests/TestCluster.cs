using System.Collections.Immutable;
using CurpStore.GeoSim.Cluster;

namespace CurpStore.Curp.Tests;

/// <summary>
/// A hand-driven cluster for scenario tests: messages wait in a queue until the test delivers, holds or drops them,
/// so each test can stage exactly the interleaving it is about (a leader dying between answering and replicating, a
/// stale leader answering after a new term, ...).
/// </summary>
internal sealed class TestCluster
{
    public const ulong FirstClient = 1_000;

    private readonly Dictionary<ulong, NodeConfig> configs = [];
    private readonly Membership membership;

    public TestCluster(int size, Func<NodeConfig, NodeConfig>? configure = null)
    {
        var ids = Enumerable.Range(1, size).Select(i => (ulong)i).ToImmutableArray();
        membership = Membership.Of(ids);
        foreach (var id in ids)
        {
            var config = new NodeConfig { NodeId = id, RandomSeed = id * 7919, ElectionTimeoutTicks = 10, HeartbeatTicks = 1, PoolStaleTicks = 30 };
            configs[id] = configure?.Invoke(config) ?? config;
            Disks[id] = new MemoryStorage();
            Start(id);
        }
        MemberIds = ids;
    }

    public ImmutableArray<ulong> MemberIds { get; }

    public Dictionary<ulong, CurpNode> Nodes { get; } = [];

    public Dictionary<ulong, KvStateMachine> Machines { get; } = [];

    public Dictionary<ulong, MemoryStorage> Disks { get; } = [];

    public Dictionary<ulong, Proposer> Clients { get; } = [];

    public List<Message> Queue { get; } = [];

    public List<Completion> Completions { get; } = [];

    /// <summary>Links that drop everything (from, to).</summary>
    public HashSet<(ulong From, ulong To)> Cut { get; } = [];

    public CurpNode Node(ulong id) => Nodes[id];

    public CurpNode Leader => Nodes.Values.Single(n => n.IsLeader);

    public void Start(ulong id)
    {
        var machine = new KvStateMachine();
        Machines[id] = machine;
        Nodes[id] = new CurpNode(configs[id], membership, machine, Disks[id].Load());
    }

    /// <summary>Starts a new, empty node <paramref name="id"/> that knows only the bootstrap membership (as a process
    /// started to join an existing cluster): it learns the real one from the leader's log or snapshot.</summary>
    public void Join(ulong id)
    {
        configs[id] = configs[MemberIds[0]] with { NodeId = id, RandomSeed = id * 7919 };
        Disks[id] = new MemoryStorage();
        Start(id);
    }

    public void Crash(ulong id)
    {
        Nodes.Remove(id);
        Queue.RemoveAll(m => m.To == id || m.From == id);
    }

    public void Restart(ulong id) => Start(id);

    /// <summary>Cuts every link between the two sides, both ways.</summary>
    public void Partition(IEnumerable<ulong> sideA, IEnumerable<ulong> sideB)
    {
        foreach (var a in sideA)
        {
            foreach (var b in sideB)
            {
                Cut.Add((a, b));
                Cut.Add((b, a));
            }
        }
    }

    public Proposer AddClient(ulong id = FirstClient, bool strict = false, bool fastPath = true)
    {
        var proposer = new Proposer(new ProposerConfig { NodeId = id, Members = MemberIds, Strict = strict, FastPath = fastPath, RetryTicks = 20 });
        Clients[id] = proposer;
        proposer.RegisterSession(id);
        Flush();
        DeliverAll();
        if (!proposer.HasSession)
        {
            throw new InvalidOperationException("session registration did not complete");
        }
        return proposer;
    }

    /// <summary>Elects <paramref name="id"/> and lets the cluster settle.</summary>
    public void Elect(ulong id)
    {
        Nodes[id].StartElection();
        Flush();
        DeliverAll();
    }

    /// <summary>Moves every node's and client's output into the queue (nodes persist their batch first).</summary>
    public void Flush()
    {
        foreach (var (id, node) in Nodes)
        {
            while (node.HasReady)
            {
                var ready = node.Ready();
                Disks[id].Persist(ready);
                Queue.AddRange(ready.Messages);
                node.Advance(ready);
            }
        }
        foreach (var client in Clients.Values)
        {
            Queue.AddRange(client.TakeMessages());
            Completions.AddRange(client.TakeCompletions());
        }
    }

    /// <summary>Delivers queued messages (those <paramref name="filter"/> lets through; the rest stay queued) until
    /// nothing deliverable is left.</summary>
    public void DeliverAll(Func<Message, bool>? filter = null, int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            Flush();
            var batch = Queue.Where(m => filter?.Invoke(m) ?? true).ToList();
            if (batch.Count == 0)
            {
                return;
            }
            foreach (var message in batch)
            {
                Queue.Remove(message);
                Deliver(message);
            }
        }
        throw new InvalidOperationException("the cluster did not settle");
    }

    public void Drop(Func<Message, bool> which) => Queue.RemoveAll(m => which(m));

    public void Tick(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var node in Nodes.Values)
            {
                node.Tick();
            }
            foreach (var client in Clients.Values)
            {
                client.Tick();
            }
            DeliverAll();
        }
    }

    /// <summary>Ticks until <paramref name="condition"/> holds (or fails after <paramref name="maxTicks"/>).</summary>
    public void TickUntil(Func<bool> condition, int maxTicks = 500)
    {
        for (var i = 0; i < maxTicks && !condition(); i++)
        {
            Tick();
        }
        if (!condition())
        {
            throw new InvalidOperationException($"condition not reached within {maxTicks} ticks");
        }
    }

    public KvCommand Put(Proposer client, string key, string value)
    {
        var command = new KvCommand(client.NextId(), KvOperation.Put, key, value);
        client.Propose(command);
        Flush();
        return command;
    }

    public Completion? CompletionOf(ProposeId id) => Completions.LastOrDefault(c => c.Id == id);

    private void Deliver(Message message)
    {
        if (Cut.Contains((message.From, message.To)))
        {
            return;
        }
        if (Nodes.TryGetValue(message.To, out var node))
        {
            node.Step(message);
        }
        else if (Clients.TryGetValue(message.To, out var client))
        {
            client.Step(message);
        }
    }
}
