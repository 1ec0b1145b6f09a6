using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>One Raft log entry. <see cref="Payload"/> says what it carries.</summary>
public sealed record LogEntry(ulong Index, ulong Term, EntryPayload Payload);

/// <summary>What a log entry carries.</summary>
public abstract record EntryPayload;

/// <summary>The empty entry a new leader appends to commit its term (Raft §5.4.2).</summary>
public sealed record NoopPayload : EntryPayload
{
    public static readonly NoopPayload Instance = new();
}

/// <summary>A client command, with the address of the node that proposed it (so any leader that applies it can
/// answer the proposer, and followers can tell the proposer they hold it), and the proposer's acknowledgement
/// watermark: every sequence below <see cref="FirstIncompleteSequence"/> has been answered and can be forgotten.</summary>
public sealed record CommandPayload(ICommand Command, ulong ProposerNode, ulong FirstIncompleteSequence) : EntryPayload;

/// <summary>A command as a witness keeps it in its speculative pool: enough to re-propose it during recovery.</summary>
public sealed record PooledCommand(ICommand Command, ulong ProposerNode, ulong FirstIncompleteSequence)
{
    public ProposeId Id => Command.Id;
}

/// <summary>Opens a client session; the session id is the index of this entry, unique in the cluster's history.</summary>
public sealed record RegisterSessionPayload(ulong ProposerNode, ulong Nonce) : EntryPayload;

/// <summary>Closes idle sessions, proposed by the leader; later commands of these sessions are refused.</summary>
public sealed record ExpireSessionsPayload(ImmutableArray<ulong> ClientIds) : EntryPayload;

/// <summary>A membership change, one member at a time; it takes effect when appended (Raft thesis §4.1).</summary>
public sealed record MembershipPayload(Membership Members) : EntryPayload;

/// <summary>The voting members and the learners (non-voting, receiving the log), with each member's attributes.</summary>
public sealed record Membership(ImmutableSortedSet<ulong> Voters, ImmutableSortedSet<ulong> Learners)
{
    /// <summary>What the host says about each member (the server keeps etcd's name, peer and client URLs here, as raft's
    /// ConfChange context carries them in etcd). Opaque to the core; replicated with the configuration, so every member
    /// learns another's address from the log or a snapshot. A member may have none.</summary>
    public ImmutableSortedDictionary<ulong, string> Attributes { get; init; } = ImmutableSortedDictionary<ulong, string>.Empty;

    public static Membership Of(IEnumerable<ulong> voters) => new(voters.ToImmutableSortedSet(), []);

    public bool Contains(ulong node) => Voters.Contains(node) || Learners.Contains(node);

    public IEnumerable<ulong> All => Voters.Concat(Learners);

    public Quorum Quorum => new(Voters.Count);

    public override string ToString() => $"voters [{string.Join(',', Voters)}] learners [{string.Join(',', Learners)}]";
}

/// <summary>Term, vote and commit index: the state Raft must persist before answering.</summary>
public readonly record struct HardState(ulong Term, ulong VotedFor, ulong Commit);

/// <summary>
/// A snapshot of everything applied up to <see cref="Index"/>: the state machine's image, the membership, and the
/// session table (so exactly-once survives log compaction).
/// </summary>
public sealed record Snapshot(ulong Index, ulong Term, Membership Members, SessionTableImage Sessions, IStateSnapshot State);
