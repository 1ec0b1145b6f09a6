namespace CurpStore.Rpc.Etcd;

/// <summary>
/// The trailer a CurpStore member adds to the answer of a write it proposed for an etcd client: how the write completed,
/// as the <c>path</c> label of its <c>curpstore_proposals_committed_total</c> counter. etcd clients ignore unknown
/// trailers; the load tool counts them, so a benchmark's per-path counts can be checked against the members' metrics.
/// </summary>
public static class CommitPathTrailer
{
    /// <summary>The trailer's name.</summary>
    public const string Name = "curp-commit-path";

    /// <summary>The leader's speculative answer plus a super-quorum of witnesses.</summary>
    public const string Fast = "fast";

    /// <summary>The leader's durable copy plus commit notices from enough followers.</summary>
    public const string CommitNotice = "commit_notice";

    /// <summary>The leader's answer after applying the write.</summary>
    public const string Slow = "slow";
}
