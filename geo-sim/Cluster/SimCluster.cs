using System.Collections.Immutable;
using CurpStore.Checker;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>
/// Runs n members of the real core and many clients over a simulated WAN, on one thread in virtual time: a safety phase
/// with the chosen faults, then a liveness phase (heal, restart, finish outstanding work) after which the cluster must
/// have converged. Then checks the recorded history and the replicas.
/// </summary>
public sealed class SimCluster
{
    /// <summary>One tick of every member's and client's clock (virtual).</summary>
    public const long TickMicros = 10_000;

    private const ulong FirstClientId = 1_000;
    private const long LivenessBudgetMicros = 60_000_000;

    private readonly SimOptions options;
    private readonly Topology topology;
    private readonly EventScheduler scheduler = new();
    private readonly SimRandom random;
    private readonly SimRandom faultRandom;
    private readonly SimNetwork<Message> network;
    private readonly List<MemberHost> members = [];
    private readonly List<SimClient> clients = [];
    private readonly Dictionary<ulong, ulong> digestAtIndex = [];
    private bool faultsActive;
    private long nextWorstMomentCrashMicros;

    public SimCluster(SimOptions options, Topology topology)
    {
        this.options = options;
        this.topology = topology;
        random = new SimRandom(options.Seed);
        faultRandom = random.Fork(1);
        network = new SimNetwork<Message>(scheduler, topology, random.Fork(2), Describe);
        var placement = topology.PlacementFor(options.Nodes);
        var memberIds = Enumerable.Range(1, options.Nodes).Select(i => (ulong)i).ToImmutableArray();
        var membership = Membership.Of(memberIds);
        var fastPath = options.Mode == ProtocolMode.Curp;
        var machine = SimMachine.For(options.Machine);
        for (var i = 0; i < options.Nodes; i++)
        {
            var config = new NodeConfig
            {
                NodeId = memberIds[i],
                RandomSeed = random.Fork(100 + (ulong)i).NextUInt64(),
                HeartbeatTicks = 10,
                ElectionTimeoutTicks = 100,
                PoolStaleTicks = 300,
                SessionIdleTicks = 100_000,
                FastPath = fastPath,
                MaxEntriesPerAppend = 128,
                RetainEntriesAfterSnapshot = 20,
            };
            var host = new MemberHost(config, membership, placement[i], machine, OnReady);
            members.Add(host);
            network.Register(host.Id, host.Region, host.Step);
        }
        var clientRegions = topology.ClientRegions;
        for (var i = 0; i < options.Clients; i++)
        {
            var region = clientRegions[i % clientRegions.Count];
            var proposerConfig = new ProposerConfig
            {
                NodeId = FirstClientId + (ulong)i,
                Members = memberIds,
                FastPath = fastPath,
                Strict = options.Strict,
                RetryTicks = 150,
                MaxAttempts = 40,
            };
            var client = new SimClient(proposerConfig.NodeId, i, region, proposerConfig, random.Fork(1_000 + (ulong)i), options.Conflict, machine);
            clients.Add(client);
            network.Register(client.Id, region, message => OnClientMessage(client, message));
        }
    }

    public int LeaderCrashes { get; private set; }

    public int Crashes { get; private set; }

    public int Partitions { get; private set; }

    public SimRunResult Run()
    {
        var leaderRegion = options.LeaderRegion ?? topology.LeaderRegion;
        var preferred = members.FirstOrDefault(m => m.Region == leaderRegion) ?? members[0];
        // Place the first leader: the preferred member campaigns before anyone's election timer fires.
        scheduler.Schedule(TickMicros, () => { preferred.Node.StartElection(); preferred.Drain(); });
        foreach (var member in members)
        {
            ScheduleTicks(member);
        }
        foreach (var client in clients)
        {
            ScheduleClient(client);
        }
        var safetyEnd = 2_000_000 + (options.Seconds * 1_000_000L);
        faultsActive = options.Faults != FaultMode.None;
        if (faultsActive)
        {
            ConfigureNetworkFaults();
            scheduler.Schedule(2_000_000, ScheduleNextFault);
        }
        scheduler.RunUntil(safetyEnd);
        var converged = RunLivenessPhase(safetyEnd);
        return Check(converged);
    }

    // ---- hosts and clients -------------------------------------------------------------------------------------

    private void ScheduleTicks(MemberHost member)
    {
        scheduler.ScheduleAfter(TickMicros, () =>
        {
            member.Tick();
            RecordDigest(member);
            ScheduleTicks(member);
        });
    }

    private void ScheduleClient(SimClient client)
    {
        // Clients start a little apart, register, then keep one operation outstanding.
        scheduler.Schedule(1_000_000 + random.Next(100_000), () =>
        {
            client.Proposer.RegisterSession(client.Id);
            FlushClient(client);
            ClientTick(client);
        });
    }

    private void ClientTick(SimClient client)
    {
        client.Proposer.Tick();
        HandleCompletions(client);
        client.MaybeIssue(scheduler.Now);
        FlushClient(client);
        scheduler.ScheduleAfter(TickMicros, () => ClientTick(client));
    }

    private void OnClientMessage(SimClient client, Message message)
    {
        client.Proposer.Step(message);
        HandleCompletions(client);
        client.MaybeIssue(scheduler.Now);
        FlushClient(client);
    }

    private void HandleCompletions(SimClient client)
    {
        foreach (var completion in client.Proposer.TakeCompletions())
        {
            client.OnCompletion(completion, scheduler.Now);
            network.Trace.Add(scheduler.Now).Add(client.Id).Add($"done {completion.Id} {completion.Path} {completion.Error}");
        }
    }

    private void FlushClient(SimClient client)
    {
        foreach (var message in client.Proposer.TakeMessages())
        {
            network.Send(client.Id, message.To, message);
        }
    }

    private void OnReady(MemberHost host, Ready ready)
    {
        // The worst moment for a leader to die: it has answered clients speculatively, but its appends are not out.
        var worstMoment = faultsActive && options.Faults is FaultMode.Crash or FaultMode.All
            && scheduler.Now >= nextWorstMomentCrashMicros
            && ready.Messages.Any(m => m is ProposeResponse { Outcome: ProposeOutcome.LeaderSpeculated })
            && faultRandom.Chance(0.05);
        foreach (var message in ready.Messages.Where(m => m.To >= FirstClientId))
        {
            network.Send(host.Id, message.To, message);
        }
        if (worstMoment)
        {
            nextWorstMomentCrashMicros = scheduler.Now + 8_000_000;
            CrashMember(host, restartAfterMicros: 300_000 + faultRandom.Next(1_500_000));
            return;
        }
        foreach (var message in ready.Messages.Where(m => m.To < FirstClientId))
        {
            network.Send(host.Id, message.To, message);
        }
    }

    private void RecordDigest(MemberHost member)
    {
        // Replicas must agree at equal applied index: sample the digest whenever a member sits on a round index.
        var applied = member.Node.AppliedIndex;
        if (applied == 0 || applied % 97 != 0)
        {
            return;
        }
        var digest = member.StateDigest();
        if (digestAtIndex.TryGetValue(applied, out var seen))
        {
            if (seen != digest)
            {
                DivergentReplicas++;
            }
        }
        else
        {
            digestAtIndex[applied] = digest;
        }
    }

    public int DivergentReplicas { get; private set; }

    // ---- faults ------------------------------------------------------------------------------------------------

    private void ConfigureNetworkFaults()
    {
        if (options.Faults == FaultMode.All)
        {
            network.LossProbability = 0.01;
            network.DuplicationProbability = 0.01;
            network.ReorderingEnabled = true;
        }
    }

    private void ScheduleNextFault()
    {
        if (!faultsActive)
        {
            return;
        }
        var crash = options.Faults == FaultMode.Crash || (options.Faults == FaultMode.All && faultRandom.Chance(0.5));
        if (crash)
        {
            var leader = members.FirstOrDefault(m => m.IsUp && m.Node.IsLeader);
            var up = members.Where(m => m.IsUp).ToList();
            if (up.Count > 0)
            {
                var victim = leader is not null && faultRandom.Chance(0.5) ? leader : up[faultRandom.Next(up.Count)];
                CrashMember(victim, restartAfterMicros: 300_000 + faultRandom.Next(2_500_000));
            }
        }
        else
        {
            StartPartition();
        }
        // Faults every 2 to 6 s: with 1 to 2 s elections, closer faults would leave the cluster leaderless most of the
        // time and the run would test little but waiting.
        scheduler.ScheduleAfter(2_000_000 + faultRandom.Next(4_000_000), ScheduleNextFault);
    }

    private void CrashMember(MemberHost member, long restartAfterMicros)
    {
        if (!member.IsUp)
        {
            return;
        }
        Crashes++;
        if (member.Node.IsLeader)
        {
            LeaderCrashes++;
        }
        member.Crash();
        network.SetDown(member.Id, true);
        network.Trace.Add(scheduler.Now).Add(member.Id).Add("crash");
        scheduler.ScheduleAfter(restartAfterMicros, () => RestartMember(member));
    }

    private void RestartMember(MemberHost member)
    {
        if (member.IsUp)
        {
            return;
        }
        member.Start();
        network.SetDown(member.Id, false);
        network.Trace.Add(scheduler.Now).Add(member.Id).Add("restart");
        member.Drain();
    }

    private void StartPartition()
    {
        Partitions++;
        var ids = members.Select(m => m.Id).ToList();
        if (faultRandom.Chance(0.3))
        {
            // One-way: a link that drops in one direction only.
            var from = ids[faultRandom.Next(ids.Count)];
            var to = ids.Where(i => i != from).ElementAt(faultRandom.Next(ids.Count - 1));
            network.Block(from, to);
        }
        else
        {
            var shuffled = ids.OrderBy(_ => faultRandom.NextUInt64()).ToList();
            var cut = 1 + faultRandom.Next(ids.Count - 1);
            network.Partition(shuffled.Take(cut), shuffled.Skip(cut));
        }
        network.Trace.Add(scheduler.Now).Add("partition");
        scheduler.ScheduleAfter(500_000 + faultRandom.Next(3_000_000), () =>
        {
            network.HealAll();
            network.Trace.Add(scheduler.Now).Add("heal");
        });
    }

    // ---- liveness ----------------------------------------------------------------------------------------------

    private bool RunLivenessPhase(long start)
    {
        faultsActive = false;
        network.HealAll();
        network.LossProbability = 0;
        network.DuplicationProbability = 0;
        foreach (var member in members.Where(m => !m.IsUp))
        {
            RestartMember(member);
        }
        foreach (var client in clients)
        {
            client.Running = false;
        }
        var deadline = start + LivenessBudgetMicros;
        while (scheduler.Now < deadline)
        {
            scheduler.RunUntil(scheduler.Now + 500_000);
            if (Converged())
            {
                // Let the last commit indexes and pool drains settle on every member.
                scheduler.RunUntil(scheduler.Now + 2_000_000);
                if (Converged())
                {
                    return true;
                }
            }
        }
        return false;
    }

    private bool Converged()
    {
        var leader = members.Where(m => m.Node.IsLeader).ToList();
        if (leader.Count != 1 || clients.Any(c => !c.Idle))
        {
            return false;
        }
        var applied = members[0].Node.AppliedIndex;
        return members.All(m => m.Node.AppliedIndex == applied && m.Node.LastIndex == applied && m.Node.PoolCount == 0);
    }

    // ---- checks ------------------------------------------------------------------------------------------------

    private SimRunResult Check(bool converged)
    {
        var history = clients.SelectMany(c => c.History).ToList();
        var effects = new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check(history);
        var strict = new LinearizabilityChecker(ConsistencyModel.Strict).Check(history);
        var reference = members.First(m => m.Node.IsLeader || m == members[^1]);
        var digests = members.Select(m => (m.Node.AppliedIndex, m.StateDigest())).Distinct().Count();
        var appliedRevisions = reference.Machine.AppliedRevisions;
        var writes = clients.SelectMany(c => c.Writes).ToList();
        var lostAcknowledged = writes.Count(w => !appliedRevisions.ContainsKey(w.Id));
        var resequenced = writes.Count(w => w.AnsweredRevision != 0 && appliedRevisions.TryGetValue(w.Id, out var final) && final != w.AnsweredRevision);
        return new SimRunResult
        {
            Options = options,
            TraceHash = network.Trace.ToHex(),
            Converged = converged,
            ConvergenceDetail = converged ? "" : string.Join("; ", members.Select(m =>
                $"member {m.Id} {(m.IsUp ? m.Node.Role.ToString() : "down")} term {m.Node.Term} applied {m.Node.AppliedIndex} commit {m.Node.CommitIndex} last {m.Node.LastIndex} pool {m.Node.PoolCount}"))
                + $"; busy clients {clients.Count(c => !c.Idle)}; leader's progress: {members.FirstOrDefault(m => m.IsUp && m.Node.IsLeader)?.Node.DescribeProgress()}",
            EffectsCheck = effects,
            StrictCheck = strict,
            DivergentReplicas = DivergentReplicas + (converged && digests > 1 ? 1 : 0),
            DuplicateApplies = members.Sum(m => m.EarlierDuplicateApplies + m.Machine.DuplicateApplies),
            SpeculationMismatches = members.Sum(m => m.EarlierSpeculationMismatches + m.SpeculationMismatches),
            LostAcknowledgedWrites = lostAcknowledged,
            ResequencedRevisions = resequenced,
            LeaderCrashes = LeaderCrashes,
            LeaderChanges = Math.Max(0, members.Sum(m => m.TotalElections) - 1),
            Crashes = Crashes,
            Partitions = Partitions,
            Writes = writes,
            WriteRegions = clients.SelectMany(c => c.Writes.Select(_ => c.Region)).ToList(),
            Operations = history.Count,
            Members = members.Select(m => (m.Region, m.Node.Counters)).ToList(),
            LeaderRegion = members.FirstOrDefault(m => m.Node.IsLeader)?.Region,
            VirtualSeconds = scheduler.Now / 1e6,
            MessagesDelivered = network.Delivered,
        };
    }

    private static string Describe(Message message) => message switch
    {
        AppendRequest a => $"App t{a.Term} p{a.PrevIndex} n{a.Entries.Length} c{a.Commit}",
        AppendResponse a => $"AppR t{a.Term} {a.Success} m{a.MatchIndex}",
        ProposeRequest p => $"Prop {p.Command.Id}",
        ProposeResponse p => $"PropR {p.Id} {p.Outcome} i{p.Index}",
        CommitNotice c => $"Note {c.Id} i{c.Index}",
        SyncedResponse s => $"Sync {s.Id}",
        _ => message.GetType().Name,
    };
}
