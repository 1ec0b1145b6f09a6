using System.Collections.Immutable;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>One simulated member process: the real core and a KV state machine, driven the way the server's event loop
/// drives them (step, then persist, then send, then advance).</summary>
public sealed class MemberHost
{
    private readonly NodeConfig config;
    private readonly Membership members;
    private readonly Action<MemberHost, Ready> deliverReady;

    private readonly SimMachine kind;

    public MemberHost(NodeConfig config, Membership members, string region, SimMachine kind, Action<MemberHost, Ready> deliverReady)
    {
        this.kind = kind;
        this.config = config;
        this.members = members;
        this.deliverReady = deliverReady;
        Region = region;
        Start();
    }

    public ulong Id => config.NodeId;

    public string Region { get; }

    /// <summary>What this member's disk holds: a crash loses the process (core and state machine), not this.</summary>
    public MemoryStorage Disk { get; } = new();

    public CurpNode Node { get; private set; } = null!;

    public CheckingStateMachine Machine { get; private set; } = null!;

    public ulong StateDigest() => kind.Digest(Machine.Inner);

    public long SpeculationMismatches => kind.SpeculationMismatches(Machine.Inner);

    public bool IsUp { get; private set; }

    public int Incarnation { get; private set; }

    /// <summary>Counters of earlier incarnations, so a crash does not erase what the checks add up.</summary>
    public long EarlierDuplicateApplies { get; private set; }

    public long EarlierSpeculationMismatches { get; private set; }

    public long EarlierElections { get; private set; }

    public long TotalElections => EarlierElections + Node.Counters.LeaderElected;

    public void Crash()
    {
        EarlierElections += Node.Counters.LeaderElected;
        EarlierDuplicateApplies += Machine.DuplicateApplies;
        EarlierSpeculationMismatches += SpeculationMismatches;
        IsUp = false;
    }

    public void Start()
    {
        Machine = new CheckingStateMachine(kind.Create(), kind.AppliedRevision);
        Incarnation++;
        // Each incarnation draws new election timeouts, as a restarted process would.
        Node = new CurpNode(config with { RandomSeed = config.RandomSeed + (ulong)Incarnation }, members, Machine, Disk.Load());
        IsUp = true;
    }

    public void Step(Message message)
    {
        if (!IsUp)
        {
            return;
        }
        Node.Step(message);
        Drain();
    }

    public void Tick()
    {
        if (!IsUp)
        {
            return;
        }
        Node.Tick();
        // Compact like a server would, so snapshots (and InstallSnapshot to members that were down) run under faults.
        if (Node.AppliedIndex - (Node.LatestSnapshot?.Index ?? 0) >= CompactEveryEntries)
        {
            Node.CompactLog();
        }
        Drain();
    }

    /// <summary>Applied entries between two snapshots.</summary>
    public ulong CompactEveryEntries { get; init; } = 100;

    /// <summary>Persist, send, advance, until the core has nothing more to do.</summary>
    public void Drain()
    {
        for (var round = 0; IsUp && Node.HasReady; round++)
        {
            if (round > 10_000)
            {
                throw new InvalidOperationException($"member {Id} keeps producing Ready batches: the core does not settle");
            }
            var ready = Node.Ready();
            Disk.Persist(ready);
            deliverReady(this, ready);
            if (IsUp)
            {
                Node.Advance(ready);
            }
        }
    }
}
