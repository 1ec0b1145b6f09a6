using System.Collections.Immutable;

namespace CurpStore.Curp;

public enum NodeRole
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// <summary>
/// One member of a CURP cluster: Raft for ordering (the slow path) with CURP witnesses and speculative execution on
/// top (the fast path). A single-threaded state machine with no I/O: the host feeds it <see cref="Step"/>,
/// <see cref="Tick"/> and local requests, takes a <see cref="Ready"/> batch, persists it, sends its messages and calls
/// <see cref="Advance"/>. Time, randomness and storage come from the host, so the simulator runs this very code.
/// </summary>
public sealed partial class CurpNode
{
    private readonly NodeConfig config;
    private readonly IStateMachine stateMachine;
    private readonly DeterministicRandom random;
    private readonly RaftLog log = new();
    private readonly List<Message> outbox = [];
    private readonly List<PooledCommand> poolAdded = [];
    private readonly List<ProposeId> poolRemoved = [];

    /// <summary>The witness's speculative pool: fast-path commands not yet known to be committed, with the tick
    /// each arrived (to find the ones whose proposer vanished).</summary>
    private readonly ConflictIndex pool;
    private readonly Dictionary<ProposeId, long> poolArrivalTick = [];

    private SessionTable sessions;
    private HardState persistedHardState;
    private Snapshot? latestSnapshot;
    private Snapshot? unpersistedSnapshot;
    private readonly Membership bootstrapMembers;
    private long ticks;

    public CurpNode(NodeConfig config, Membership initialMembers, IStateMachine stateMachine, PersistentState? restored = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.config = config;
        this.stateMachine = stateMachine;
        random = new DeterministicRandom(config.RandomSeed);
        pool = new ConflictIndex(config.MaxPoolSize);
        sessions = new SessionTable(config.MaxResultsPerSession);
        bootstrapMembers = initialMembers;
        Members = initialMembers;
        appliedMembers = initialMembers;
        uncommitted = new ConflictIndex(config.MaxUncommittedEntries + config.MaxPoolSize);
        Restore(restored ?? PersistentState.Empty);
        ResetElectionTimer();
    }

    public ulong Id => config.NodeId;

    public NodeRole Role { get; private set; }

    public ulong Term { get; private set; }

    public ulong VotedFor { get; private set; }

    /// <summary>The leader this member currently follows, or 0 when it knows none.</summary>
    public ulong LeaderId { get; private set; }

    public ulong CommitIndex { get; private set; }

    public ulong AppliedIndex { get; private set; }

    public ulong LastIndex => log.LastIndex;

    public ulong FirstIndex => log.FirstIndex;

    public Membership Members { get; private set; }

    public bool IsLeader => Role == NodeRole.Leader;

    public int PoolCount => pool.Count;

    public IEnumerable<ulong> OpenSessions => sessions.ClientIds;

    /// <summary>Counters the host exposes as metrics; the simulator reads them too.</summary>
    public NodeCounters Counters { get; } = new();

    public LogEntry EntryAt(ulong index) => log.Entry(index);

    public ulong? TermAt(ulong index) => log.TermAt(index);

    public bool HasReady =>
        outbox.Count > 0 || log.UnstableFrom <= log.LastIndex || poolAdded.Count > 0 || poolRemoved.Count > 0
        || unpersistedSnapshot is not null || CurrentHardState != persistedHardState || (IsLeader && AnyFollowerNeedsEntries());

    private HardState CurrentHardState => new(Term, VotedFor, CommitIndex);

    /// <summary>Takes what must be persisted and sent now. Call <see cref="Advance"/> once it is durable and sent.</summary>
    public Ready Ready()
    {
        if (IsLeader)
        {
            SendAppendsToAll(heartbeatOnly: false);
        }
        var hardState = CurrentHardState;
        var ready = new Ready
        {
            HardState = hardState != persistedHardState ? hardState : null,
            Entries = log.UnstableFrom <= log.LastIndex ? [.. log.EntriesFrom(log.UnstableFrom)] : [],
            Snapshot = unpersistedSnapshot,
            PoolAdded = [.. poolAdded],
            PoolRemoved = [.. poolRemoved],
            Messages = [.. outbox],
        };
        outbox.Clear();
        poolAdded.Clear();
        poolRemoved.Clear();
        unpersistedSnapshot = null;
        persistedHardState = hardState;
        return ready;
    }

    /// <summary>The host made <paramref name="ready"/> durable and sent its messages.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!ready.Entries.IsEmpty)
        {
            var last = ready.Entries[^1];
            if (log.TermAt(last.Index) == last.Term)
            {
                log.MarkStable(last.Index);
            }
        }
        if (IsLeader)
        {
            MaybeCommit();
        }
    }

    /// <summary>One tick of the host's clock.</summary>
    public void Tick()
    {
        ticks++;
        if (IsLeader)
        {
            TickLeader();
        }
        else
        {
            TickFollower();
        }
        ScanStalePool();
    }

    /// <summary>Handles one message from a member or a proposer.</summary>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case ProposeRequest propose:
                HandlePropose(propose);
                return;
            case ReadRequest read:
                HandleRead(read);
                return;
            case RegisterSessionRequest register:
                HandleRegisterSession(register);
                return;
        }
        if (!Members.Contains(message.From) && !IsFromSelf(message))
        {
            // A removed or unknown member: ignore it, as Raft does, so it cannot disrupt the cluster.
            Counters.MessagesFromStrangers++;
            return;
        }
        var term = PeerTerm(message);
        if (term > Term && !AdoptHigherTerm(message, term))
        {
            return;
        }
        if (term < Term)
        {
            AnswerStaleTerm(message);
            return;
        }
        switch (message)
        {
            case PreVoteRequest preVote:
                HandlePreVoteRequest(preVote);
                break;
            case PreVoteResponse preVoteResponse:
                HandlePreVoteResponse(preVoteResponse);
                break;
            case VoteRequest vote:
                HandleVoteRequest(vote);
                break;
            case VoteResponse voteResponse:
                HandleVoteResponse(voteResponse);
                break;
            case AppendRequest append:
                HandleAppend(append);
                break;
            case AppendResponse appendResponse:
                HandleAppendResponse(appendResponse);
                break;
            case InstallSnapshotRequest snapshot:
                HandleInstallSnapshot(snapshot);
                break;
            case InstallSnapshotResponse snapshotResponse:
                HandleInstallSnapshotResponse(snapshotResponse);
                break;
            case StalePoolReport stale:
                HandleStalePoolReport(stale);
                break;
            case TimeoutNow:
                Campaign(preVote: false, transfer: true);
                break;
        }
    }

    private bool IsFromSelf(Message message) => message.From == Id;

    private static ulong PeerTerm(Message message) => message switch
    {
        PreVoteRequest m => m.Term,
        PreVoteResponse m => m.Term,
        VoteRequest m => m.Term,
        VoteResponse m => m.Term,
        AppendRequest m => m.Term,
        AppendResponse m => m.Term,
        InstallSnapshotRequest m => m.Term,
        InstallSnapshotResponse m => m.Term,
        StalePoolReport m => m.Term,
        TimeoutNow m => m.Term,
        _ => throw new ArgumentException($"not a peer message: {message.GetType().Name}", nameof(message)),
    };

    /// <summary>Raft's rule "a higher term wins", minus the cases pre-vote and leader leases exist for.</summary>
    private bool AdoptHigherTerm(Message message, ulong term)
    {
        switch (message)
        {
            case PreVoteRequest:
                return true; // answered without changing term
            case PreVoteResponse { Granted: true }:
                return true; // the term in a granted pre-vote is the one we asked about
            case VoteRequest { LeadershipTransfer: false } when InLease():
                // We heard from a live leader within the election timeout: a disruptive candidate (e.g. one that was
                // partitioned away) must not depose it.
                Counters.VotesIgnoredInLease++;
                return false;
        }
        var leader = message is AppendRequest or InstallSnapshotRequest or TimeoutNow ? message.From : 0;
        BecomeFollower(term, leader);
        return true;
    }

    private void AnswerStaleTerm(Message message)
    {
        switch (message)
        {
            case AppendRequest or InstallSnapshotRequest or StalePoolReport:
                // Tell a deposed leader about the newer term so it steps down.
                Send(new AppendResponse(Id, message.From, Term, false, 0, 0, 0, 0));
                break;
            case PreVoteRequest:
                Send(new PreVoteResponse(Id, message.From, Term, false));
                break;
        }
    }

    private void Send(Message message)
    {
        if (message.To == Id)
        {
            throw new InvalidOperationException($"member {Id} tried to send {message.GetType().Name} to itself");
        }
        outbox.Add(message);
    }

    private void Restore(PersistentState state)
    {
        if (state.Snapshot is { } snapshot)
        {
            InstallSnapshotLocally(snapshot, persisted: true);
        }
        foreach (var entry in state.Entries)
        {
            if (entry.Index <= log.LastIndex)
            {
                continue; // covered by the snapshot
            }
            log.Append(entry);
        }
        log.MarkStable(log.LastIndex);
        Term = state.HardState.Term;
        VotedFor = state.HardState.VotedFor;
        RecomputeMembership();
        foreach (var pooled in state.Pool)
        {
            if (pool.Add(pooled))
            {
                poolArrivalTick[pooled.Id] = ticks;
            }
        }
        // Replay the committed prefix: the state machine is rebuilt from the snapshot plus the log.
        CommitTo(Math.Min(state.HardState.Commit, log.LastIndex));
        persistedHardState = CurrentHardState;
    }
}

/// <summary>Plain counters a host reads for metrics and the simulator for its report.</summary>
public sealed class NodeCounters
{
    public long LeaderElected { get; set; }

    public long FastPathSpeculated { get; set; }

    public long LeaderConflicts { get; set; }

    public long WitnessAccepted { get; set; }

    public long WitnessConflicts { get; set; }

    public long RecoveredCommands { get; set; }

    public long StaleCommandsOrdered { get; set; }

    public long DuplicatesAnswered { get; set; }

    public long SnapshotsSent { get; set; }

    public long SnapshotsInstalled { get; set; }

    public long Refused { get; set; }

    public long VotesIgnoredInLease { get; set; }

    public long MessagesFromStrangers { get; set; }

    public long ReadsServed { get; set; }

    public long SessionsExpired { get; set; }
}
