using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;

namespace CurpStore.Bench;

/// <summary>
/// The core's own cost per write on the fast path, with no network: a proposer sends a batch of writes on disjoint keys
/// to an in-process 3-member cluster and every message is delivered at once, until all writes have completed and been
/// applied everywhere. Measures CPU and allocations per write of the protocol code itself.
/// </summary>
[MemoryDiagnoser]
public class FastPathBenchmarks
{
    private const int WritesPerBatch = 256;
    private readonly Queue<Message> inFlight = new();
    private Dictionary<ulong, CurpNode> nodes = null!;
    private Proposer proposer = null!;
    private int completed;
    private long batch;

    [GlobalSetup]
    public void Setup()
    {
        var ids = ImmutableArray.Create<ulong>(1, 2, 3);
        var membership = Membership.Of(ids);
        nodes = ids.ToDictionary(id => id, id => new CurpNode(
            new NodeConfig { NodeId = id, RandomSeed = id, MaxUncommittedEntries = 100_000, MaxPoolSize = 100_000, RetainEntriesAfterSnapshot = 1_000 },
            membership,
            new KvStateMachine()));
        nodes[1].StartElection();
        Pump();
        proposer = new Proposer(new ProposerConfig { NodeId = 100, Members = ids, MaxInflight = 10_000 });
        proposer.RegisterSession(1);
        Pump();
    }

    [Benchmark(OperationsPerInvoke = WritesPerBatch)]
    public int ProposeAndApply_DisjointKeys()
    {
        completed = 0;
        batch++;
        for (var i = 0; i < WritesPerBatch; i++)
        {
            proposer.Propose(new KvCommand(proposer.NextId(), KvOperation.Put, $"k{batch}/{i}", "value"));
        }
        Pump();
        if (nodes[1].AppliedIndex > 50_000)
        {
            nodes[1].CompactLog(); // keep the log bounded over millions of iterations
        }
        return completed;
    }

    private void Pump()
    {
        while (true)
        {
            foreach (var node in nodes.Values)
            {
                while (node.HasReady)
                {
                    var ready = node.Ready();
                    foreach (var message in ready.Messages)
                    {
                        inFlight.Enqueue(message);
                    }
                    node.Advance(ready);
                }
            }
            if (proposer is not null)
            {
                foreach (var message in proposer.TakeMessages())
                {
                    inFlight.Enqueue(message);
                }
                completed += proposer.TakeCompletions().Count;
            }
            if (inFlight.Count == 0)
            {
                return;
            }
            while (inFlight.TryDequeue(out var message))
            {
                if (nodes.TryGetValue(message.To, out var node))
                {
                    node.Step(message);
                }
                else
                {
                    proposer?.Step(message);
                }
            }
        }
    }
}
