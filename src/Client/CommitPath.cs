namespace CurpStore.Client;

/// <summary>How a write was decided, from the client's own CURP proposer.</summary>
public enum CommitPath
{
    /// <summary>The leader's speculative result plus a super-quorum of witnesses accepted it: one round trip. The
    /// revision is final unless the leader changes before the write reaches a follower's log (then recovery may give it
    /// another revision, with the same effect; see the repository README).</summary>
    Fast,

    /// <summary>The leader's durable copy plus commit notices from enough followers: the write is committed at the
    /// position the leader answered for, so its revision is final.</summary>
    CommitNotice,

    /// <summary>The leader's answer after applying the write (Raft's path; also every answer to a retried write).</summary>
    Slow,
}
