using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>Log replication with batching, pipelining and fast backtracking; commit and apply; snapshots.</summary>
public sealed partial class CurpNode
{
    private readonly Dictionary<ulong, FollowerProgress> progress = [];

    /// <summary>Results the leader computed for its uncommitted entries (what they will return when applied).</summary>
    private readonly Dictionary<ulong, ICommandResult> speculativeResults = [];

    /// <summary>The leader's uncommitted pool: commands in its log not applied yet, indexed for conflict checks.</summary>
    private readonly ConflictIndex uncommitted;

    private readonly PendingSessions pendingSessions = new();

    private sealed class FollowerProgress
    {
        public ulong Match { get; set; }

        public ulong Next { get; set; }

        /// <summary>Last index of each append message in flight (pipelining window).</summary>
        public Queue<ulong> Inflight { get; } = new();

        /// <summary>Probing after a rejection: send one message and wait for its answer.</summary>
        public bool Probing { get; set; }

        public bool RecentActive { get; set; }

        public bool SnapshotInFlight { get; set; }

        public ulong ReadContextAcked { get; set; }

        /// <summary>When this follower last acknowledged or rejected anything (to spot a window of lost messages).</summary>
        public long LastProgressTick { get; set; }

        public long SnapshotSentTick { get; set; }

        /// <summary>When this follower last answered anything in this term (for the fast-path lease).</summary>
        public long LastHeardTick { get; set; }
    }

    /// <summary>True while a quorum (this leader included) has answered within the fast-path lease.</summary>
    private bool HoldsFastPathLease()
    {
        var leaseTicks = config.FastPathLeaseTicks > 0 ? config.FastPathLeaseTicks : Math.Max(1, config.ElectionTimeoutTicks / 2);
        var heard = 1 + Members.Voters.Count(v => v != Id && progress.TryGetValue(v, out var p) && ticks - p.LastHeardTick <= leaseTicks);
        return heard >= Members.Quorum.Majority;
    }

    /// <summary>Messages get lost: a follower whose window has been outstanding for half an election timeout without an
    /// acknowledgement, or whose snapshot has gone unanswered as long, is probed again from its match index, or the
    /// window would stay full (or the snapshot pending) forever.</summary>
    private void ResumeStalledFollowers()
    {
        var patienceTicks = Math.Max(2 * config.HeartbeatTicks, config.ElectionTimeoutTicks / 2);
        foreach (var follower in progress.Values)
        {
            var windowStalled = follower.Inflight.Count > 0 && ticks - follower.LastProgressTick >= patienceTicks;
            var snapshotStalled = follower.SnapshotInFlight && ticks - follower.SnapshotSentTick >= patienceTicks;
            if (windowStalled || snapshotStalled)
            {
                follower.Inflight.Clear();
                follower.SnapshotInFlight = false;
                follower.Next = follower.Match + 1;
                follower.Probing = true;
                follower.LastProgressTick = ticks;
            }
        }
    }

    /// <summary>The leader's view of each follower, for logs and diagnostics.</summary>
    public string DescribeProgress() => string.Join(", ", progress.Select(pair =>
        $"{pair.Key}: match {pair.Value.Match} next {pair.Value.Next} inflight {pair.Value.Inflight.Count}"
        + $"{(pair.Value.Probing ? " probing" : "")}{(pair.Value.SnapshotInFlight ? " snapshot" : "")} progress@{pair.Value.LastProgressTick} now@{ticks}"));

    private void ResetProgress()
    {
        progress.Clear();
        foreach (var member in Members.All.Where(m => m != Id))
        {
            progress[member] = new FollowerProgress { Next = log.LastIndex + 1, Probing = true, LastProgressTick = ticks, LastHeardTick = ticks };
        }
    }

    private bool QuorumActive()
    {
        var active = 1 + Members.Voters.Count(v => v != Id && progress.TryGetValue(v, out var p) && p.RecentActive);
        foreach (var follower in progress.Values)
        {
            follower.RecentActive = false;
        }
        return active >= Members.Quorum.Majority;
    }

    private bool AnyFollowerNeedsEntries() =>
        progress.Any(pair => pair.Value.Next <= log.LastIndex && CanSend(pair.Value));

    private bool CanSend(FollowerProgress follower) =>
        !follower.SnapshotInFlight && (follower.Probing ? follower.Inflight.Count == 0 : follower.Inflight.Count < config.MaxInflightAppends);

    /// <summary>Leader: appends a new entry of its own term.</summary>
    private LogEntry AppendAsLeader(EntryPayload payload)
    {
        var entry = new LogEntry(log.LastIndex + 1, Term, payload);
        log.Append(entry);
        TrackUncommitted(entry);
        if (payload is MembershipPayload membership)
        {
            ApplyMembershipOnAppend(entry.Index, membership.Members);
        }
        return entry; // a lone voter commits it as soon as it is durable (Advance)
    }

    /// <summary>Leader: records what an appended entry will do, speculatively executing its command.</summary>
    private void TrackUncommitted(LogEntry entry)
    {
        if (entry.Payload is CommandPayload command)
        {
            var admission = sessions.Judge(command.Command.Id, pendingSessions, out _);
            if (admission == Admission.New)
            {
                speculativeResults[entry.Index] = stateMachine.Speculate(command.Command, entry.Index);
                uncommitted.Add(new PooledCommand(command.Command, command.ProposerNode, command.FirstIncompleteSequence));
            }
        }
        pendingSessions.Add(entry);
    }

    /// <summary>A new leader rebuilds the speculative overlay from its own uncommitted tail, in log order.</summary>
    private void RespeculateUncommittedTail()
    {
        stateMachine.DiscardSpeculation();
        speculativeResults.Clear();
        uncommitted.Clear();
        pendingSessions.Clear();
        foreach (var entry in log.EntriesFrom(AppliedIndex + 1))
        {
            TrackUncommitted(entry);
        }
    }

    private void StepDownFromLeadership()
    {
        if (Role != NodeRole.Leader)
        {
            return;
        }
        stateMachine.DiscardSpeculation();
        speculativeResults.Clear();
        uncommitted.Clear();
        pendingSessions.Clear();
        progress.Clear();
        FailPendingReads();
    }

    private void SendAppendsToAll(bool heartbeatOnly)
    {
        foreach (var (member, follower) in progress)
        {
            SendAppends(member, follower, heartbeatOnly);
        }
    }

    /// <summary>Sends what <paramref name="member"/> lacks, in batches, up to the pipelining window; a heartbeat when
    /// asked and nothing else goes.</summary>
    private void SendAppends(ulong member, FollowerProgress follower, bool heartbeatOnly)
    {
        var sent = false;
        while (follower.Next <= log.LastIndex && CanSend(follower))
        {
            if (follower.Next < log.FirstIndex)
            {
                SendSnapshot(member, follower);
                return;
            }
            var prevIndex = follower.Next - 1;
            var batch = log.Slice(follower.Next, config.MaxEntriesPerAppend);
            Send(new AppendRequest(Id, member, Term, prevIndex, log.TermAt(prevIndex)!.Value, [.. batch], CommitIndex, readContext));
            var last = batch[^1].Index;
            follower.Inflight.Enqueue(last);
            follower.Next = last + 1;
            sent = true;
            if (follower.Probing)
            {
                break;
            }
        }
        if (!sent && heartbeatOnly)
        {
            // An empty append: keeps the lease, carries the commit index and the read context.
            var prevIndex = Math.Min(follower.Match, log.LastIndex);
            if (prevIndex < log.SnapshotIndex)
            {
                prevIndex = log.SnapshotIndex;
            }
            Send(new AppendRequest(Id, member, Term, prevIndex, log.TermAt(prevIndex)!.Value, [], Math.Min(CommitIndex, follower.Match), readContext));
        }
    }

    private void SendSnapshot(ulong member, FollowerProgress follower)
    {
        if (latestSnapshot is null || follower.SnapshotInFlight)
        {
            return;
        }
        follower.SnapshotInFlight = true;
        follower.SnapshotSentTick = ticks;
        Counters.SnapshotsSent++;
        Send(new InstallSnapshotRequest(Id, member, Term, latestSnapshot));
    }

    private void HandleAppend(AppendRequest request)
    {
        Role = NodeRole.Follower;
        LeaderId = request.From;
        ResetElectionTimer();
        if (request.PrevIndex < CommitIndex)
        {
            // Everything up to our commit index matches any leader's log: skip what we already hold as committed.
            var skip = CommitIndex - request.PrevIndex;
            if ((ulong)request.Entries.Length <= skip)
            {
                Send(new AppendResponse(Id, request.From, Term, true, CommitIndex, 0, 0, request.ReadContext));
                return;
            }
            request = request with
            {
                PrevIndex = CommitIndex,
                PrevTerm = log.TermAt(CommitIndex)!.Value,
                Entries = request.Entries[(int)skip..],
            };
        }
        var localPrevTerm = log.TermAt(request.PrevIndex);
        if (localPrevTerm != request.PrevTerm)
        {
            ulong hintIndex;
            ulong hintTerm;
            if (localPrevTerm is null)
            {
                hintIndex = log.LastIndex + 1;
                hintTerm = 0;
            }
            else
            {
                hintTerm = localPrevTerm.Value;
                hintIndex = log.FirstIndexOfTermBefore(hintTerm, request.PrevIndex);
            }
            Send(new AppendResponse(Id, request.From, Term, false, 0, hintIndex, hintTerm, request.ReadContext));
            return;
        }
        var appendedFrom = AppendFromLeader(request.Entries);
        var lastNew = request.PrevIndex + (ulong)request.Entries.Length;
        CommitTo(Math.Min(request.Commit, lastNew));
        Send(new AppendResponse(Id, request.From, Term, true, lastNew, 0, 0, request.ReadContext));
        NotifyProposers(request.Entries, appendedFrom);
    }

    /// <summary>Appends the leader's entries, cutting off any of ours that disagree. Returns the first index that
    /// was new to this member (ulong.MaxValue when none was).</summary>
    private ulong AppendFromLeader(ImmutableArray<LogEntry> entries)
    {
        var firstNew = ulong.MaxValue;
        var membershipTouched = false;
        foreach (var entry in entries)
        {
            var local = log.TermAt(entry.Index);
            if (local == entry.Term)
            {
                continue;
            }
            if (local is not null)
            {
                if (entry.Index <= CommitIndex)
                {
                    throw new InvalidOperationException($"member {Id}: leader {LeaderId} rewrote committed entry {entry.Index}");
                }
                membershipTouched |= log.EntriesFrom(entry.Index).Any(e => e.Payload is MembershipPayload);
                log.TruncateAfter(entry.Index - 1);
            }
            log.Append(entry);
            firstNew = Math.Min(firstNew, entry.Index);
            membershipTouched |= entry.Payload is MembershipPayload;
        }
        if (membershipTouched)
        {
            RecomputeMembership();
        }
        return firstNew;
    }

    /// <summary>Commit notification: tell each proposer that this member holds its command, if this member stored it
    /// while in the entry's own term (only then does a majority of such copies mean committed).</summary>
    private void NotifyProposers(ImmutableArray<LogEntry> entries, ulong appendedFrom)
    {
        foreach (var entry in entries)
        {
            if (entry.Index >= appendedFrom && entry.Term == Term && entry.Payload is CommandPayload command && command.ProposerNode != Id)
            {
                Send(new CommitNotice(Id, command.ProposerNode, command.Command.Id, entry.Index, entry.Term));
            }
        }
    }

    private void HandleAppendResponse(AppendResponse response)
    {
        if (!IsLeader || !progress.TryGetValue(response.From, out var follower))
        {
            return;
        }
        follower.RecentActive = true;
        follower.LastHeardTick = ticks;
        if (response.ReadContext > follower.ReadContextAcked)
        {
            follower.ReadContextAcked = response.ReadContext;
            ServeConfirmedReads();
        }
        if (response.Success)
        {
            if (response.MatchIndex > follower.Match)
            {
                follower.Match = response.MatchIndex;
                follower.Probing = false;
            }
            follower.Next = Math.Max(follower.Next, follower.Match + 1);
            while (follower.Inflight.Count > 0 && follower.Inflight.Peek() <= response.MatchIndex)
            {
                follower.Inflight.Dequeue();
                follower.LastProgressTick = ticks; // a heartbeat's success alone is no progress of the window
            }
            if (follower.Inflight.Count == 0 && follower.Next > follower.Match + 1 && !follower.SnapshotInFlight)
            {
                // Nothing is in flight, yet the follower holds less than we sent: those appends were lost (a member
                // added before its process started drops them all). Send again from what it holds.
                follower.Next = follower.Match + 1;
                follower.Probing = true;
            }
            MaybeCommit();
            SendAppends(response.From, follower, heartbeatOnly: false);
            return;
        }
        if ((response.RejectHintIndex == 0 && response.RejectHintTerm == 0) || follower.SnapshotInFlight)
        {
            // A stale-term answer (handled by the term check), or a heartbeat the follower cannot place while its
            // snapshot is on the way: the snapshot answers it.
            return;
        }
        follower.LastProgressTick = ticks; // the window restarts with the probe below
        // Fast backtracking: jump over the follower's whole conflicting term at once.
        var next = response.RejectHintIndex;
        if (response.RejectHintTerm != 0 && log.LastIndexOfTerm(response.RejectHintTerm) is { } lastOfTerm)
        {
            next = lastOfTerm + 1;
        }
        follower.Next = Math.Max(follower.Match + 1, Math.Min(next, log.LastIndex + 1));
        follower.Inflight.Clear();
        follower.Probing = true;
        SendAppends(response.From, follower, heartbeatOnly: false);
    }

    private void MaybeCommit()
    {
        if (!IsLeader)
        {
            return;
        }
        var matches = Members.Voters
            .Select(v => v == Id ? log.StableIndex : progress.TryGetValue(v, out var p) ? p.Match : 0)
            .OrderDescending()
            .ToList();
        if (matches.Count == 0)
        {
            return;
        }
        var quorumIndex = matches[Members.Quorum.Majority - 1];
        // Only entries of the current term commit by counting (Raft §5.4.2); earlier ones commit with them.
        if (quorumIndex > CommitIndex && log.TermAt(quorumIndex) == Term)
        {
            CommitTo(quorumIndex);
        }
    }

    /// <summary>Moves the commit index and applies everything up to it, in order.</summary>
    private void CommitTo(ulong index)
    {
        if (index <= CommitIndex)
        {
            return;
        }
        CommitIndex = index;
        while (AppliedIndex < CommitIndex)
        {
            ApplyEntry(log.Entry(AppliedIndex + 1));
        }
        if (IsLeader)
        {
            RebuildPendingSessions();
            ServeConfirmedReads();
        }
    }

    private void ApplyEntry(LogEntry entry)
    {
        switch (entry.Payload)
        {
            case CommandPayload command:
                ApplyCommand(entry, command);
                break;
            case RegisterSessionPayload register:
                sessions.Open(entry.Index);
                if (IsLeader)
                {
                    Send(new RegisterSessionResponse(Id, register.ProposerNode, register.Nonce, entry.Index, Id, ProposeError.None));
                }
                break;
            case ExpireSessionsPayload expire:
                sessions.Close(expire.ClientIds);
                Counters.SessionsExpired += expire.ClientIds.Length;
                break;
            case MembershipPayload membership:
                appliedMembers = membership.Members;
                break;
        }
        AppliedIndex = entry.Index;
    }

    private void ApplyCommand(LogEntry entry, CommandPayload payload)
    {
        var command = payload.Command;
        var admission = sessions.Judge(command.Id, null, out var result);
        var error = ProposeError.None;
        switch (admission)
        {
            case Admission.New:
                result = stateMachine.Apply(command, entry.Index);
                sessions.Record(command.Id, payload.FirstIncompleteSequence, result);
                break;
            case Admission.Duplicate:
                Counters.DuplicatesAnswered++;
                break;
            case Admission.Stale:
                error = ProposeError.StaleRequest;
                break;
            default:
                error = ProposeError.SessionExpired;
                break;
        }
        if (admission != Admission.New)
        {
            sessions.Acknowledge(command.Id.ClientId, payload.FirstIncompleteSequence);
        }
        RemoveFromPool(command.Id);
        if (IsLeader)
        {
            speculativeResults.Remove(entry.Index);
            uncommitted.Remove(command.Id);
            Send(new SyncedResponse(Id, payload.ProposerNode, command.Id, Term, result, error));
        }
    }

    private void RebuildPendingSessions()
    {
        pendingSessions.Clear();
        foreach (var entry in log.EntriesFrom(AppliedIndex + 1))
        {
            pendingSessions.Add(entry);
        }
    }

    // ---- snapshots ---------------------------------------------------------------------------------------------

    private Membership appliedMembers;

    /// <summary>Takes a snapshot of the applied state and compacts the log behind it, keeping
    /// <see cref="NodeConfig.RetainEntriesAfterSnapshot"/> entries for followers that lag a little.</summary>
    public Snapshot CompactLog()
    {
        var snapshot = new Snapshot(AppliedIndex, log.TermAt(AppliedIndex) ?? 0, appliedMembers, sessions.ToImage(), stateMachine.TakeSnapshot());
        latestSnapshot = snapshot;
        unpersistedSnapshot = snapshot;
        var retain = (ulong)config.RetainEntriesAfterSnapshot;
        if (AppliedIndex > retain)
        {
            log.CompactTo(AppliedIndex - retain);
        }
        return snapshot;
    }

    public Snapshot? LatestSnapshot => latestSnapshot;

    /// <summary>The host made the latest snapshot durable and offers an equivalent handle to its image (a file), so the
    /// core need not keep the image in memory until the next snapshot. Ignored for any other snapshot.</summary>
    public void ReplaceSnapshotState(ulong index, IStateSnapshot state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (latestSnapshot is { } snapshot && snapshot.Index == index)
        {
            latestSnapshot = snapshot with { State = state };
        }
    }

    private void HandleInstallSnapshot(InstallSnapshotRequest request)
    {
        Role = NodeRole.Follower;
        LeaderId = request.From;
        ResetElectionTimer();
        var snapshot = request.Snapshot;
        if (snapshot.Index <= CommitIndex)
        {
            Send(new InstallSnapshotResponse(Id, request.From, Term, CommitIndex));
            return;
        }
        InstallSnapshotLocally(snapshot, persisted: false);
        Counters.SnapshotsInstalled++;
        Send(new InstallSnapshotResponse(Id, request.From, Term, snapshot.Index));
    }

    private void InstallSnapshotLocally(Snapshot snapshot, bool persisted)
    {
        latestSnapshot = snapshot;
        if (log.TermAt(snapshot.Index) == snapshot.Term && snapshot.Index <= log.LastIndex)
        {
            // Raft §7: the log already holds the snapshot's last entry, so the entries after it stay. They may have been
            // acknowledged to the leader already; dropping them would leave the leader's match index past our log.
            log.CompactTo(snapshot.Index);
        }
        else
        {
            log.ResetTo(snapshot.Index, snapshot.Term);
        }
        stateMachine.RestoreSnapshot(snapshot.State);
        sessions = SessionTable.FromImage(snapshot.Sessions);
        appliedMembers = snapshot.Members;
        RecomputeMembership();
        CommitIndex = Math.Max(CommitIndex, snapshot.Index);
        AppliedIndex = snapshot.Index;
        if (!persisted)
        {
            unpersistedSnapshot = snapshot;
        }
        DropSettledPoolEntries();
    }

    private void HandleInstallSnapshotResponse(InstallSnapshotResponse response)
    {
        if (!IsLeader || !progress.TryGetValue(response.From, out var follower))
        {
            return;
        }
        follower.RecentActive = true;
        follower.LastProgressTick = ticks;
        follower.SnapshotInFlight = false;
        follower.Match = Math.Max(follower.Match, response.MatchIndex);
        follower.Next = follower.Match + 1;
        follower.Inflight.Clear();
        follower.Probing = false;
        MaybeCommit();
        SendAppends(response.From, follower, heartbeatOnly: false);
    }
}
