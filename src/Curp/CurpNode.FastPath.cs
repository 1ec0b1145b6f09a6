using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>The CURP fast path: witnesses' speculative pools, the leader's speculative execution, recovery of fast-path
/// commands after a leader change, and draining of pool entries whose proposer vanished.</summary>
public sealed partial class CurpNode
{
    private readonly Dictionary<ulong, long> sessionLastActiveTick = [];

    private void HandlePropose(ProposeRequest request)
    {
        var command = request.Command;
        if (IsLeader)
        {
            ProposeAsLeader(request);
            return;
        }
        if (!IsVoter)
        {
            Refuse(request, ProposeError.NotLeader);
            return;
        }
        // A witness: record the command unless it conflicts with one already held.
        var accepted = pool.Contains(command.Id) || (AdmissibleAtWitness(command) && !pool.IsFull && !pool.Conflicts(command));
        if (accepted && AddToPool(new PooledCommand(command, request.From, request.FirstIncompleteSequence)))
        {
            Counters.WitnessAccepted++;
        }
        else if (!accepted)
        {
            Counters.WitnessConflicts++;
        }
        Send(new ProposeResponse(
            Id, request.From, command.Id, Term, LeaderId, accepted ? ProposeOutcome.WitnessAccepted : ProposeOutcome.WitnessConflict, 0, null, ProposeError.None));
    }

    /// <summary>A witness holds nothing it already knows is settled (applied, acknowledged, or of a closed session):
    /// such an entry would never be committed again and so never leave the pool.</summary>
    private bool AdmissibleAtWitness(ICommand command) => !IsSettled(command.Id);

    /// <summary>Settled: this member's applied state proves the command will never be executed (again). A session id is
    /// the index of its registration entry, so an unknown session at or below the applied index is closed, while one
    /// above it is merely not learned yet by a lagging member.</summary>
    private bool IsSettled(ProposeId id) => sessions.Judge(id, null, out _) switch
    {
        Admission.Duplicate or Admission.Stale => true,
        Admission.UnknownSession => id.ClientId <= AppliedIndex,
        _ => false,
    };

    private void ProposeAsLeader(ProposeRequest request)
    {
        var command = request.Command;
        sessionLastActiveTick[command.Id.ClientId] = ticks;
        switch (sessions.Judge(command.Id, pendingSessions, out var cached))
        {
            case Admission.Duplicate:
                Counters.DuplicatesAnswered++;
                Send(new SyncedResponse(Id, request.From, command.Id, Term, cached, ProposeError.None));
                return;
            case Admission.Pending:
                AnswerPending(request);
                return;
            case Admission.Stale:
                Refuse(request, ProposeError.StaleRequest);
                return;
            case Admission.UnknownSession:
                Refuse(request, ProposeError.SessionExpired);
                return;
        }
        if (uncommitted.Count >= config.MaxUncommittedEntries || !sessions.HasRoom(command.Id.ClientId, pendingSessions))
        {
            Refuse(request, ProposeError.TooManyRequests);
            return;
        }
        // The leader checks both its own pool (commands it accepted as a witness and that are not ordered yet) and its
        // uncommitted pool (ordered, not applied): a command that conflicts with either must wait for the order.
        var conflict = !config.FastPath || !HoldsFastPathLease() || pool.Conflicts(command) || uncommitted.Conflicts(command);
        var entry = AppendAsLeader(new CommandPayload(command, request.From, request.FirstIncompleteSequence));
        if (conflict)
        {
            Counters.LeaderConflicts++;
        }
        else
        {
            // The leader is a witness too: if it dies and restarts, its pool still vouches for the command during the
            // next recovery (its log copy alone may be cut off by a newer leader).
            AddToPool(new PooledCommand(command, request.From, request.FirstIncompleteSequence));
            Counters.FastPathSpeculated++;
        }
        // Sent after the entry is durable here (Ready), so it doubles as the leader's copy for commit notification.
        Send(new ProposeResponse(
            Id, request.From, command.Id, Term, Id, conflict ? ProposeOutcome.LeaderOrdered : ProposeOutcome.LeaderSpeculated,
            entry.Index, speculativeResults[entry.Index], ProposeError.None));
    }

    /// <summary>A retry of a command already in the log: say where, so the proposer can keep counting commit notices;
    /// an entry of an older term cannot be judged committed by counting, so the proposer waits for the synced answer.</summary>
    private void AnswerPending(ProposeRequest request)
    {
        if (pendingSessions.TryGetIndex(request.Command.Id, out var index) && log.TermAt(index) == Term
            && speculativeResults.TryGetValue(index, out var result))
        {
            Send(new ProposeResponse(Id, request.From, request.Command.Id, Term, Id, ProposeOutcome.LeaderOrdered, index, result, ProposeError.None));
        }
    }

    private void Refuse(ProposeRequest request, ProposeError error)
    {
        Counters.Refused++;
        Send(new ProposeResponse(Id, request.From, request.Command.Id, Term, LeaderId, ProposeOutcome.Refused, 0, null, error));
    }

    private bool AddToPool(PooledCommand pooled)
    {
        if (!pool.Add(pooled))
        {
            return false;
        }
        poolArrivalTick[pooled.Id] = ticks;
        poolAdded.Add(pooled);
        return true;
    }

    private void RemoveFromPool(ProposeId id)
    {
        if (pool.Remove(id))
        {
            poolArrivalTick.Remove(id);
            poolRemoved.Add(id);
        }
    }

    /// <summary>
    /// CURP recovery, run by a new leader before it serves: every command held by at least rq of the quorum's pools
    /// may have completed on the fast path, so it is ordered now (after the leader's own log, which already holds the
    /// old leader's longest surviving tail: the vote rule elects the most up-to-date log of the quorum).
    /// </summary>
    private void RecoverFromPools(List<ImmutableArray<PooledCommand>> pools)
    {
        var threshold = Members.Quorum.Recovery;
        var counts = new SortedDictionary<ProposeId, (PooledCommand Command, int Count)>(ProposeIdComparer.Instance);
        foreach (var memberPool in pools)
        {
            foreach (var pooled in memberPool.DistinctBy(p => p.Id))
            {
                counts[pooled.Id] = counts.TryGetValue(pooled.Id, out var held) ? (held.Command, held.Count + 1) : (pooled, 1);
            }
        }
        foreach (var (id, (pooled, count)) in counts)
        {
            if (count < threshold || sessions.Judge(id, pendingSessions, out _) != Admission.New)
            {
                continue;
            }
            AppendAsLeader(new CommandPayload(pooled.Command, pooled.ProposerNode, pooled.FirstIncompleteSequence));
            sessionLastActiveTick[id.ClientId] = ticks;
            Counters.RecoveredCommands++;
        }
    }

    /// <summary>Pool entries that outlived <see cref="NodeConfig.PoolStaleTicks"/>: their proposer may have died before
    /// it reached the leader. The leader orders them (a late delivery, harmless under exactly-once); a witness reports
    /// them to the leader; settled ones are dropped.</summary>
    private void ScanStalePool()
    {
        if (pool.Count == 0 || ticks % Math.Max(1, config.PoolStaleTicks / 3) != 0)
        {
            return;
        }
        DropSettledPoolEntries();
        var stale = pool.Commands.Where(p => ticks - poolArrivalTick[p.Id] >= config.PoolStaleTicks).OrderBy(p => p.Id, ProposeIdComparer.Instance).ToList();
        if (stale.Count == 0)
        {
            return;
        }
        foreach (var pooled in stale)
        {
            poolArrivalTick[pooled.Id] = ticks; // report again only after another stale period
        }
        if (IsLeader)
        {
            OrderStaleCommands(stale);
        }
        else if (LeaderId != 0)
        {
            Send(new StalePoolReport(Id, LeaderId, Term, [.. stale.Take(config.MaxEntriesPerAppend)]));
        }
    }

    private void HandleStalePoolReport(StalePoolReport report)
    {
        if (IsLeader)
        {
            OrderStaleCommands(report.Commands);
        }
    }

    private void OrderStaleCommands(IEnumerable<PooledCommand> commands)
    {
        foreach (var pooled in commands)
        {
            if (uncommitted.Count >= config.MaxUncommittedEntries)
            {
                return; // the next stale scan brings the rest
            }
            if (sessions.Judge(pooled.Id, pendingSessions, out _) == Admission.New)
            {
                AppendAsLeader(new CommandPayload(pooled.Command, pooled.ProposerNode, pooled.FirstIncompleteSequence));
                Counters.StaleCommandsOrdered++;
            }
        }
    }

    private void DropSettledPoolEntries()
    {
        foreach (var pooled in pool.Commands.Where(p => IsSettled(p.Id)).ToList())
        {
            RemoveFromPool(pooled.Id);
        }
    }

    // ---- client sessions ---------------------------------------------------------------------------------------

    private void HandleRegisterSession(RegisterSessionRequest request)
    {
        if (!IsLeader)
        {
            Send(new RegisterSessionResponse(Id, request.From, request.Nonce, 0, LeaderId, ProposeError.NotLeader));
            return;
        }
        if (uncommitted.Count >= config.MaxUncommittedEntries)
        {
            Send(new RegisterSessionResponse(Id, request.From, request.Nonce, 0, Id, ProposeError.TooManyRequests));
            return;
        }
        AppendAsLeader(new RegisterSessionPayload(request.From, request.Nonce));
    }

    private void StartSessionTracking()
    {
        sessionLastActiveTick.Clear();
        foreach (var client in sessions.ClientIds)
        {
            sessionLastActiveTick[client] = ticks; // a new leader gives every session a full idle period
        }
    }

    private void ExpireIdleSessions()
    {
        var idle = sessions.ClientIds
            .Where(c => !pendingSessions.IsClosing(c) && ticks - sessionLastActiveTick.GetValueOrDefault(c, ticks) >= config.SessionIdleTicks)
            .Take(config.MaxEntriesPerAppend)
            .ToImmutableArray();
        if (idle.Length > 0)
        {
            AppendAsLeader(new ExpireSessionsPayload(idle));
        }
        foreach (var client in sessionLastActiveTick.Keys.Where(c => !sessions.IsOpen(c)).ToList())
        {
            sessionLastActiveTick.Remove(client);
        }
        foreach (var client in sessions.ClientIds.Where(c => !sessionLastActiveTick.ContainsKey(c)).ToList())
        {
            sessionLastActiveTick[client] = ticks; // opened while this member leads
        }
    }
}

/// <summary>Orders propose ids by client, then sequence: a deterministic order for recovery.</summary>
public sealed class ProposeIdComparer : IComparer<ProposeId>
{
    public static readonly ProposeIdComparer Instance = new();

    public int Compare(ProposeId x, ProposeId y)
    {
        var byClient = x.ClientId.CompareTo(y.ClientId);
        return byClient != 0 ? byClient : x.Sequence.CompareTo(y.Sequence);
    }
}
