using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>Leader election with pre-vote, check-quorum and leader leases (Raft §5.2, thesis §9.6).</summary>
public sealed partial class CurpNode
{
    private readonly Dictionary<ulong, bool> votes = [];
    private readonly List<ImmutableArray<PooledCommand>> collectedPools = [];
    private int electionElapsed;
    private int randomizedElectionTimeout;
    private int heartbeatElapsed;

    private bool IsVoter => Members.Voters.Contains(Id);

    /// <summary>True while this member heard from a leader within the minimum election timeout.</summary>
    private bool InLease() => LeaderId != 0 && electionElapsed < config.ElectionTimeoutTicks;

    private void ResetElectionTimer()
    {
        electionElapsed = 0;
        randomizedElectionTimeout = config.ElectionTimeoutTicks + random.Next(config.ElectionTimeoutTicks);
    }

    private void TickFollower()
    {
        electionElapsed++;
        if (IsVoter && electionElapsed >= randomizedElectionTimeout)
        {
            Campaign(config.PreVote, transfer: false);
        }
    }

    /// <summary>Starts a pre-vote (asks without raising the term) or a real election.</summary>
    private void Campaign(bool preVote, bool transfer)
    {
        if (!IsVoter)
        {
            return;
        }
        ResetElectionTimer();
        votes.Clear();
        collectedPools.Clear();
        if (preVote)
        {
            Role = NodeRole.PreCandidate;
            LeaderId = 0;
            votes[Id] = true;
            if (votes.Count >= Members.Quorum.Majority)
            {
                Campaign(preVote: false, transfer);
                return;
            }
            foreach (var voter in Members.Voters.Where(v => v != Id))
            {
                Send(new PreVoteRequest(Id, voter, Term + 1, log.LastIndex, log.LastTerm));
            }
            return;
        }
        BecomeCandidate();
        foreach (var voter in Members.Voters.Where(v => v != Id))
        {
            Send(new VoteRequest(Id, voter, Term, log.LastIndex, log.LastTerm, transfer));
        }
        if (votes.Count >= Members.Quorum.Majority)
        {
            BecomeLeader();
        }
    }

    private void BecomeCandidate()
    {
        StepDownFromLeadership();
        Term++;
        VotedFor = Id;
        Role = NodeRole.Candidate;
        LeaderId = 0;
        votes.Clear();
        collectedPools.Clear();
        votes[Id] = true;
        collectedPools.Add([.. pool.Commands]);
    }

    private void BecomeFollower(ulong term, ulong leader)
    {
        StepDownFromLeadership();
        if (term != Term)
        {
            Term = term;
            VotedFor = 0;
        }
        Role = NodeRole.Follower;
        LeaderId = leader;
        ResetElectionTimer();
    }

    private void HandlePreVoteRequest(PreVoteRequest request)
    {
        var grant = request.Term > Term && !InLease() && log.IsUpToDate(request.LastIndex, request.LastTerm);
        Send(new PreVoteResponse(Id, request.From, grant ? request.Term : Term, grant));
    }

    private void HandlePreVoteResponse(PreVoteResponse response)
    {
        if (Role != NodeRole.PreCandidate || response.Term != Term + 1)
        {
            return;
        }
        votes[response.From] = response.Granted;
        if (votes.Count(v => v.Value) >= Members.Quorum.Majority)
        {
            Campaign(preVote: false, transfer: false);
        }
    }

    private void HandleVoteRequest(VoteRequest request)
    {
        var canVote = VotedFor == 0 || VotedFor == request.From;
        var grant = canVote && log.IsUpToDate(request.LastIndex, request.LastTerm);
        if (grant)
        {
            VotedFor = request.From;
            ResetElectionTimer();
        }
        // A granted vote hands over this witness's pool; the vote is persisted before the answer leaves (Ready).
        Send(new VoteResponse(Id, request.From, Term, grant, grant ? [.. pool.Commands] : []));
    }

    private void HandleVoteResponse(VoteResponse response)
    {
        if (Role != NodeRole.Candidate || votes.ContainsKey(response.From))
        {
            return;
        }
        votes[response.From] = response.Granted;
        if (response.Granted)
        {
            collectedPools.Add(response.Pool);
        }
        // Exactly a quorum of pools: with more, two conflicting commands could both reach the recovery threshold.
        if (votes.Count(v => v.Value) == Members.Quorum.Majority)
        {
            BecomeLeader();
        }
        else if (votes.Count(v => !v.Value) >= Members.Quorum.Majority)
        {
            BecomeFollower(Term, 0);
        }
    }

    private void BecomeLeader()
    {
        Role = NodeRole.Leader;
        LeaderId = Id;
        heartbeatElapsed = 0;
        Counters.LeaderElected++;
        ResetProgress();
        RespeculateUncommittedTail();
        AppendAsLeader(NoopPayload.Instance);
        RecoverFromPools(collectedPools);
        collectedPools.Clear();
        StartSessionTracking();
        SendAppendsToAll(heartbeatOnly: false);
    }

    private void TickLeader()
    {
        heartbeatElapsed++;
        electionElapsed++;
        if (heartbeatElapsed >= config.HeartbeatTicks)
        {
            heartbeatElapsed = 0;
            ResumeStalledFollowers();
            SendAppendsToAll(heartbeatOnly: true);
        }
        if (electionElapsed >= config.ElectionTimeoutTicks)
        {
            electionElapsed = 0;
            if (config.CheckQuorum && !QuorumActive())
            {
                // Partitioned away from a quorum: stop serving so no client waits on (or trusts) a stale leader.
                BecomeFollower(Term, 0);
                return;
            }
            if (!Members.Voters.Contains(Id) && CommitIndex >= membershipIndex)
            {
                BecomeFollower(Term, 0); // removed from the cluster and the removal is committed
                return;
            }
            ExpireIdleSessions();
        }
    }

    /// <summary>Starts an election now (the host places the first leader, or honours an operator's move).</summary>
    public void StartElection()
    {
        if (!IsLeader)
        {
            Campaign(preVote: false, transfer: true);
        }
    }

    /// <summary>Leadership transfer: hand over to <paramref name="target"/> once its log is up to date.</summary>
    public bool TransferLeadership(ulong target)
    {
        if (!IsLeader || target == Id || !Members.Voters.Contains(target) || !progress.TryGetValue(target, out var state))
        {
            return false;
        }
        if (state.Match != log.LastIndex)
        {
            SendAppends(target, state, heartbeatOnly: false);
            return false;
        }
        Send(new TimeoutNow(Id, target, Term));
        return true;
    }
}
