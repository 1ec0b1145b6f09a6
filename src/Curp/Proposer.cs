using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>Which way a command completed.</summary>
public enum CompletionPath
{
    /// <summary>Leader's speculative result plus a super-quorum of witnesses: one round trip.</summary>
    Fast,

    /// <summary>The leader's copy plus commit notices from a majority-minus-one of followers: the entry is committed
    /// at the index the leader answered for, so its result (and revision) is final.</summary>
    CommitNotice,

    /// <summary>The leader's answer after applying the command (Raft's path).</summary>
    Slow,

    /// <summary>A linearizable read served by the leader.</summary>
    Read,
}

/// <summary>The outcome of one command for the caller.</summary>
public sealed record Completion(ProposeId Id, ICommandResult? Result, CompletionPath Path, ProposeError Error)
{
    public bool Succeeded => Error == ProposeError.None;
}

public sealed record ProposerConfig
{
    public required ulong NodeId { get; init; }

    public required ImmutableArray<ulong> Members { get; init; }

    /// <summary>Off: complete only on the leader's answer after apply (a plain Raft client such as etcd's, for the
    /// baseline): neither the super-quorum nor commit notices count.</summary>
    public bool FastPath { get; init; } = true;

    /// <summary>Strict revisions: a write completes only once its position in the log is final (commit notices or the
    /// synced answer), so the revision it reports is its final mod_revision.</summary>
    public bool Strict { get; init; }

    /// <summary>Ticks without completion before a command is sent again (same ProposeId: exactly once).</summary>
    public int RetryTicks { get; init; } = 20;

    /// <summary>Retries before the caller is told the outcome is unknown (<see cref="ProposeError.NotLeader"/>).</summary>
    public int MaxAttempts { get; init; } = 50;

    public int MaxInflight { get; init; } = 1_024;
}

/// <summary>
/// The proposer side of CURP as a pure component: it sends each command to every member, collects the answers and
/// decides when the command is complete, on whichever path gets there first. Used by the simulator's clients, the .NET
/// client and the server's etcd facade (which proposes on behalf of plain etcd clients).
/// </summary>
public sealed class Proposer
{
    private readonly ProposerConfig config;
    private readonly Dictionary<ProposeId, InflightCommand> inflight = [];
    private readonly Dictionary<ProposeId, InflightRead> reads = [];
    private readonly SortedSet<ulong> incompleteSequences = [];
    private readonly List<Message> outbox = [];
    private readonly List<Completion> completions = [];
    private ulong nextSequence = 1;
    private ulong nextReadSequence = 1;
    private ulong registrationNonce;
    private long ticks;
    private long registrationSentTick;
    private int leaderCursor;

    public Proposer(ProposerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Members.IsDefaultOrEmpty)
        {
            throw new ArgumentException("a proposer needs at least one member", nameof(config));
        }
        this.config = config;
        Members = config.Members;
    }

    public ulong NodeId => config.NodeId;

    /// <summary>The session id issued by the cluster; 0 until <see cref="RegisterSession"/> completed.</summary>
    public ulong ClientId { get; private set; }

    public bool HasSession => ClientId != 0;

    public ulong LeaderHint { get; private set; }

    public ImmutableArray<ulong> Members { get; private set; }

    public int InflightCount => inflight.Count + reads.Count;

    private Quorum Quorum => new(Members.Length);

    public void UpdateMembers(ImmutableArray<ulong> members) => Members = members;

    /// <summary>Opens a session (needed before any write). Completes when <see cref="HasSession"/> turns true.</summary>
    public void RegisterSession(ulong nonce)
    {
        registrationNonce = nonce;
        registrationSentTick = ticks;
        ClientId = 0;
        foreach (var member in Members)
        {
            outbox.Add(new RegisterSessionRequest(NodeId, member, nonce));
        }
    }

    /// <summary>The id the next command must carry.</summary>
    public ProposeId NextId()
    {
        if (!HasSession)
        {
            throw new InvalidOperationException("register a session before proposing");
        }
        return new ProposeId(ClientId, nextSequence++);
    }

    /// <summary>An id for a read. Reads are not deduplicated and belong to no session: client id 0 keeps their ids apart
    /// from every write's; the id only matches the answer to the question.</summary>
    public ProposeId NextReadId() => new(0, nextReadSequence++);

    /// <summary>Sends a write to every member. Returns false when the in-flight bound is reached.</summary>
    public bool Propose(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (InflightCount >= config.MaxInflight)
        {
            return false;
        }
        var state = new InflightCommand(command) { SentTick = ticks };
        inflight[command.Id] = state;
        incompleteSequences.Add(command.Id.Sequence);
        SendToAll(command);
        return true;
    }

    /// <summary>Sends a linearizable read to the leader (or the members in turn until one leads).</summary>
    public bool Read(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (InflightCount >= config.MaxInflight)
        {
            return false;
        }
        reads[command.Id] = new InflightRead(command) { SentTick = ticks };
        outbox.Add(new ReadRequest(NodeId, PickLeader(), command, config.Strict));
        return true;
    }

    public void Tick()
    {
        ticks++;
        if (!HasSession && registrationNonce != 0 && ticks - registrationSentTick >= config.RetryTicks)
        {
            RegisterSession(registrationNonce);
        }
        foreach (var (id, state) in inflight.Where(p => ticks - p.Value.SentTick >= config.RetryTicks).ToList())
        {
            if (++state.Attempts >= config.MaxAttempts)
            {
                Complete(id, null, CompletionPath.Slow, ProposeError.NotLeader);
                continue;
            }
            state.SentTick = ticks;
            SendToAll(state.Command);
        }
        foreach (var (id, read) in reads.Where(p => ticks - p.Value.SentTick >= config.RetryTicks).ToList())
        {
            if (++read.Attempts >= config.MaxAttempts)
            {
                reads.Remove(id);
                completions.Add(new Completion(id, null, CompletionPath.Read, ProposeError.NotLeader));
                continue;
            }
            read.SentTick = ticks;
            LeaderHint = 0;
            outbox.Add(new ReadRequest(NodeId, PickLeader(), read.Command, config.Strict));
        }
    }

    public void Step(Message message)
    {
        switch (message)
        {
            case ProposeResponse response:
                HandleProposeResponse(response);
                break;
            case SyncedResponse synced:
                NoteLeader(synced.From);
                Complete(synced.Id, synced.Result, CompletionPath.Slow, synced.Error);
                break;
            case CommitNotice notice:
                HandleCommitNotice(notice);
                break;
            case RegisterSessionResponse registered:
                HandleRegistered(registered);
                break;
            case ReadResponse read:
                HandleReadResponse(read);
                break;
        }
    }

    public List<Message> TakeMessages()
    {
        var taken = outbox.ToList();
        outbox.Clear();
        return taken;
    }

    public List<Completion> TakeCompletions()
    {
        var taken = completions.ToList();
        completions.Clear();
        return taken;
    }

    /// <summary>The acknowledgement watermark sent with each command: every sequence below it has been answered.</summary>
    private ulong FirstIncompleteSequence => incompleteSequences.Count > 0 ? incompleteSequences.Min : nextSequence;

    private void SendToAll(ICommand command)
    {
        var firstIncomplete = FirstIncompleteSequence;
        foreach (var member in Members)
        {
            outbox.Add(new ProposeRequest(NodeId, member, command, firstIncomplete));
        }
    }

    private ulong PickLeader()
    {
        if (LeaderHint != 0 && Members.Contains(LeaderHint))
        {
            return LeaderHint;
        }
        leaderCursor = (leaderCursor + 1) % Members.Length;
        return Members[leaderCursor];
    }

    private void NoteLeader(ulong leader)
    {
        if (leader != 0)
        {
            LeaderHint = leader;
        }
    }

    private void HandleProposeResponse(ProposeResponse response)
    {
        if (!inflight.TryGetValue(response.Id, out var state))
        {
            return;
        }
        switch (response.Outcome)
        {
            case ProposeOutcome.WitnessAccepted:
                NoteLeader(response.LeaderHint);
                state.WitnessAccepts[response.From] = response.Term;
                break;
            case ProposeOutcome.WitnessConflict:
                NoteLeader(response.LeaderHint);
                state.WitnessAccepts.Remove(response.From);
                break;
            case ProposeOutcome.LeaderSpeculated or ProposeOutcome.LeaderOrdered:
                NoteLeader(response.From);
                state.Leader = response;
                break;
            case ProposeOutcome.Refused:
                NoteLeader(response.LeaderHint);
                if (response.Error is ProposeError.SessionExpired or ProposeError.StaleRequest or ProposeError.TooManyRequests)
                {
                    Complete(response.Id, null, CompletionPath.Slow, response.Error);
                    return;
                }
                break;
        }
        TryComplete(response.Id, state);
    }

    private void HandleCommitNotice(CommitNotice notice)
    {
        if (!inflight.TryGetValue(notice.Id, out var state))
        {
            return;
        }
        state.CommitNotices[notice.From] = (notice.Index, notice.Term);
        TryComplete(notice.Id, state);
    }

    private void TryComplete(ProposeId id, InflightCommand state)
    {
        if (state.Leader is not { } leader || !config.FastPath)
        {
            return; // without the fast path the proposer is a plain Raft client: only the synced answer completes
        }
        // Commit notification: the leader's durable copy plus q-1 followers that stored (index, term) in that term.
        var copies = 1 + state.CommitNotices.Count(n => n.Key != leader.From && n.Value == (leader.Index, leader.Term));
        if (copies >= Quorum.Majority)
        {
            Complete(id, leader.Result, CompletionPath.CommitNotice, ProposeError.None);
            return;
        }
        if (config.Strict || leader.Outcome != ProposeOutcome.LeaderSpeculated)
        {
            return;
        }
        // The fast path: a super-quorum (the leader counts) that accepted in the leader's term. A witness in another
        // term may have voted in a newer leader whose recovery ran without this command: it cannot count.
        var accepts = 1 + state.WitnessAccepts.Count(w => w.Key != leader.From && w.Value == leader.Term);
        if (accepts >= Quorum.SuperQuorum)
        {
            Complete(id, leader.Result, CompletionPath.Fast, ProposeError.None);
        }
    }

    private void Complete(ProposeId id, ICommandResult? result, CompletionPath path, ProposeError error)
    {
        if (!inflight.Remove(id))
        {
            return;
        }
        incompleteSequences.Remove(id.Sequence);
        completions.Add(new Completion(id, result, path, error));
    }

    private void HandleRegistered(RegisterSessionResponse response)
    {
        if (response.Nonce != registrationNonce || HasSession)
        {
            return;
        }
        if (response.Error == ProposeError.None)
        {
            ClientId = response.ClientId;
            NoteLeader(response.From);
            return;
        }
        NoteLeader(response.LeaderHint);
    }

    private void HandleReadResponse(ReadResponse response)
    {
        if (!reads.TryGetValue(response.Id, out var read))
        {
            return;
        }
        if (response.Error == ProposeError.NotLeader)
        {
            LeaderHint = response.LeaderHint;
            if (response.LeaderHint != 0 && response.LeaderHint != response.From)
            {
                // Redirect at once; without a hint, wait for the retry timer instead of circling a leaderless cluster.
                read.SentTick = ticks;
                outbox.Add(new ReadRequest(NodeId, response.LeaderHint, read.Command, config.Strict));
            }
            return;
        }
        reads.Remove(response.Id);
        NoteLeader(response.From);
        completions.Add(new Completion(response.Id, response.Result, CompletionPath.Read, response.Error));
    }

    private sealed class InflightCommand(ICommand command)
    {
        public ICommand Command { get; } = command;

        public long SentTick { get; set; }

        public int Attempts { get; set; }

        public ProposeResponse? Leader { get; set; }

        public Dictionary<ulong, ulong> WitnessAccepts { get; } = [];

        public Dictionary<ulong, (ulong Index, ulong Term)> CommitNotices { get; } = [];
    }

    private sealed class InflightRead(ICommand command)
    {
        public ICommand Command { get; } = command;

        public long SentTick { get; set; }

        public int Attempts { get; set; }
    }
}
