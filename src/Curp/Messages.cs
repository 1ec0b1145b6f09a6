using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>Every message the core sends or receives, between members and between proposers and members.
/// Node ids are plain numbers; the host maps them to addresses.</summary>
public abstract record Message(ulong From, ulong To);

// ---- Raft, between members -------------------------------------------------------------------------------------

/// <summary>Pre-vote (Raft thesis §9.6): would you vote for me in <see cref="Term"/>? Changes no state, so a
/// partitioned member cannot disrupt the cluster by bumping terms.</summary>
public sealed record PreVoteRequest(ulong From, ulong To, ulong Term, ulong LastIndex, ulong LastTerm) : Message(From, To);

public sealed record PreVoteResponse(ulong From, ulong To, ulong Term, bool Granted) : Message(From, To);

/// <summary><see cref="LeadershipTransfer"/> marks an election the old leader asked for (TimeoutNow), which voters honour
/// even inside the old leader's lease.</summary>
public sealed record VoteRequest(ulong From, ulong To, ulong Term, ulong LastIndex, ulong LastTerm, bool LeadershipTransfer) : Message(From, To);

/// <summary>A granted vote carries the voter's speculative pool: the new leader recovers fast-path commands from the
/// pools of the quorum that elected it.</summary>
public sealed record VoteResponse(ulong From, ulong To, ulong Term, bool Granted, ImmutableArray<PooledCommand> Pool) : Message(From, To);

/// <summary>AppendEntries; with no entries it is the heartbeat. <see cref="ReadContext"/> confirms leadership for
/// ReadIndex.</summary>
public sealed record AppendRequest(
    ulong From, ulong To, ulong Term, ulong PrevIndex, ulong PrevTerm, ImmutableArray<LogEntry> Entries, ulong Commit, ulong ReadContext)
    : Message(From, To);

/// <summary>On rejection the hint lets the leader skip a whole term of mismatching entries at once (fast backtracking):
/// the follower's conflicting term and the first index it holds of that term, or its last index when it is short.</summary>
public sealed record AppendResponse(
    ulong From, ulong To, ulong Term, bool Success, ulong MatchIndex, ulong RejectHintIndex, ulong RejectHintTerm, ulong ReadContext)
    : Message(From, To);

public sealed record InstallSnapshotRequest(ulong From, ulong To, ulong Term, Snapshot Snapshot) : Message(From, To);

public sealed record InstallSnapshotResponse(ulong From, ulong To, ulong Term, ulong MatchIndex) : Message(From, To);

/// <summary>A member tells the leader which commands have sat in its speculative pool for too long without being
/// committed (their proposer may have died before reaching the leader); the leader orders them, so every pool
/// drains.</summary>
public sealed record StalePoolReport(ulong From, ulong To, ulong Term, ImmutableArray<PooledCommand> Commands) : Message(From, To);

/// <summary>Leadership transfer: the receiver starts an election at once, skipping pre-vote.</summary>
public sealed record TimeoutNow(ulong From, ulong To, ulong Term) : Message(From, To);

// ---- CURP, between proposers and members -----------------------------------------------------------------------

/// <summary>Sent by a proposer to every member at once.</summary>
public sealed record ProposeRequest(ulong From, ulong To, ICommand Command, ulong FirstIncompleteSequence) : Message(From, To);

public enum ProposeOutcome
{
    /// <summary>A non-leader member recorded the command in its speculative pool.</summary>
    WitnessAccepted,

    /// <summary>A non-leader member holds a conflicting command: no fast path through it.</summary>
    WitnessConflict,

    /// <summary>The leader found no conflict, executed the command speculatively and appended it at
    /// <see cref="ProposeResponse.Index"/>.</summary>
    LeaderSpeculated,

    /// <summary>The leader found a conflict and ordered the command at <see cref="ProposeResponse.Index"/>; it completes
    /// once committed. The result is what the command will return when applied there.</summary>
    LeaderOrdered,

    /// <summary>The command was refused; <see cref="ProposeResponse.Error"/> says why.</summary>
    Refused,
}

public enum ProposeError
{
    None,

    /// <summary>This member is not the leader (or the leader is still recovering); try <c>LeaderHint</c>.</summary>
    NotLeader,

    /// <summary>The client session is unknown or expired: the outcome of its unanswered commands is unknown.</summary>
    SessionExpired,

    /// <summary>The command is older than the client's own acknowledgement watermark.</summary>
    StaleRequest,

    /// <summary>A bound was reached (uncommitted entries, session results, pool size, pending reads): retry later.</summary>
    TooManyRequests,
}

/// <summary>A member's first answer to a proposal. A leader's answer is sent after the entry is durable on the leader,
/// so it also counts as the leader's copy for commit notification.</summary>
public sealed record ProposeResponse(
    ulong From, ulong To, ProposeId Id, ulong Term, ulong LeaderHint, ProposeOutcome Outcome, ulong Index, ICommandResult? Result,
    ProposeError Error)
    : Message(From, To);

/// <summary>The leader's answer once the command is applied (the slow path), or at once for a duplicate.</summary>
public sealed record SyncedResponse(ulong From, ulong To, ProposeId Id, ulong Term, ICommandResult? Result, ProposeError Error) : Message(From, To);

/// <summary>A follower has persisted entry (<see cref="Index"/>, <see cref="Term"/>) holding the proposer's command. The
/// leader's copy plus a majority-minus-one of these means the entry is committed (Raft §5.4.2), without the leader's
/// extra hop.</summary>
public sealed record CommitNotice(ulong From, ulong To, ProposeId Id, ulong Index, ulong Term) : Message(From, To);

public sealed record RegisterSessionRequest(ulong From, ulong To, ulong Nonce) : Message(From, To);

public sealed record RegisterSessionResponse(ulong From, ulong To, ulong Nonce, ulong ClientId, ulong LeaderHint, ProposeError Error)
    : Message(From, To);

/// <summary>A linearizable read, served by the leader through ReadIndex. By default it waits only for uncommitted
/// writes it conflicts with (per-key linearizability); <see cref="WaitForAllWrites"/> (strict revisions) makes it wait
/// for every write the leader has accepted, so its header revision is at least that of any write completed before it.</summary>
public sealed record ReadRequest(ulong From, ulong To, ICommand Command, bool WaitForAllWrites = false) : Message(From, To);

public sealed record ReadResponse(ulong From, ulong To, ProposeId Id, ulong LeaderHint, ICommandResult? Result, ProposeError Error)
    : Message(From, To);
