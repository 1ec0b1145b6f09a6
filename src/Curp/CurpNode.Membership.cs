namespace CurpStore.Curp;

public enum MembershipChangeKind
{
    AddVoter,
    AddLearner,
    PromoteLearner,
    Remove,

    /// <summary>Replaces a member's attributes; voters and learners stay as they are.</summary>
    SetAttributes,
}

/// <summary>Single-member changes (Raft thesis §4.1): each configuration differs from the previous one by one member, so
/// any two majorities overlap; a configuration takes effect as soon as it is in the log, and only one may be
/// uncommitted at a time.</summary>
public sealed partial class CurpNode
{
    /// <summary>Index of the entry that set the current configuration (0: the bootstrap one).</summary>
    private ulong membershipIndex;

    /// <summary>Index of the entry that set <see cref="Members"/> (0: the bootstrap configuration).</summary>
    public ulong MembershipIndex => membershipIndex;

    /// <param name="attributes">The member's attributes for <see cref="MembershipChangeKind.AddVoter"/>,
    /// <see cref="MembershipChangeKind.AddLearner"/> and <see cref="MembershipChangeKind.SetAttributes"/> (null: none,
    /// or unchanged); ignored by the other kinds.</param>
    public MembershipChangeResult ProposeMembershipChange(MembershipChangeKind kind, ulong member, string? attributes = null)
    {
        if (!IsLeader)
        {
            return MembershipChangeResult.NotLeader;
        }
        if (membershipIndex > CommitIndex)
        {
            return MembershipChangeResult.ChangeInProgress;
        }
        Membership next;
        switch (kind)
        {
            case MembershipChangeKind.AddVoter when !Members.Contains(member):
                next = WithAttributes(Members with { Voters = Members.Voters.Add(member) }, member, attributes);
                break;
            case MembershipChangeKind.AddLearner when !Members.Contains(member):
                next = WithAttributes(Members with { Learners = Members.Learners.Add(member) }, member, attributes);
                break;
            case MembershipChangeKind.PromoteLearner when Members.Learners.Contains(member):
                next = Members with { Voters = Members.Voters.Add(member), Learners = Members.Learners.Remove(member) };
                break;
            case MembershipChangeKind.SetAttributes when Members.Contains(member):
                next = WithAttributes(Members, member, attributes);
                break;
            case MembershipChangeKind.Remove when Members.Contains(member):
                if (Members.Voters.Count == 1 && Members.Voters.Contains(member))
                {
                    return MembershipChangeResult.Invalid; // a cluster cannot remove its last voter
                }
                next = new Membership(Members.Voters.Remove(member), Members.Learners.Remove(member)) { Attributes = Members.Attributes.Remove(member) };
                break;
            case MembershipChangeKind.Remove or MembershipChangeKind.PromoteLearner or MembershipChangeKind.SetAttributes:
                return MembershipChangeResult.UnknownMember;
            default:
                return MembershipChangeResult.AlreadyMember;
        }
        AppendAsLeader(new MembershipPayload(next));
        return MembershipChangeResult.Accepted;
    }

    /// <summary>True when <paramref name="learner"/> has replicated at least 90% of this leader's log (etcd's
    /// readyPercent for promoting a learner); false on a follower or for a member that is not a learner.</summary>
    public bool IsLearnerInSync(ulong learner) =>
        IsLeader && Members.Learners.Contains(learner) && progress.TryGetValue(learner, out var state) && state.Match * 10 >= log.LastIndex * 9;

    /// <summary>The members this leader has heard from within an election timeout, itself included (etcd's "connected
    /// since" for its reconfiguration checks); only this member on a follower.</summary>
    public IReadOnlySet<ulong> RecentlyHeardMembers()
    {
        var heard = new HashSet<ulong> { Id };
        if (IsLeader)
        {
            heard.UnionWith(progress.Where(pair => ticks - pair.Value.LastHeardTick <= config.ElectionTimeoutTicks).Select(pair => pair.Key));
        }
        return heard;
    }

    private static Membership WithAttributes(Membership members, ulong member, string? attributes) =>
        attributes is null ? members : members with { Attributes = members.Attributes.SetItem(member, attributes) };

    private void ApplyMembershipOnAppend(ulong index, Membership next)
    {
        Members = next;
        membershipIndex = index;
        if (!IsLeader)
        {
            return;
        }
        foreach (var member in next.All.Where(m => m != Id && !progress.ContainsKey(m)))
        {
            progress[member] = new FollowerProgress { Next = log.LastIndex + 1, Probing = true, RecentActive = true, LastProgressTick = ticks };
        }
        foreach (var gone in progress.Keys.Where(m => !next.Contains(m)).ToList())
        {
            progress.Remove(gone);
        }
    }

    /// <summary>The configuration is the latest one in the log (a follower's log may have been cut back).</summary>
    private void RecomputeMembership()
    {
        for (var index = log.LastIndex; index >= log.FirstIndex && index > 0; index--)
        {
            if (log.Entry(index).Payload is MembershipPayload membership)
            {
                Members = membership.Members;
                membershipIndex = index;
                return;
            }
        }
        Members = latestSnapshot?.Members ?? bootstrapMembers;
        membershipIndex = latestSnapshot?.Index ?? 0;
    }
}

public enum MembershipChangeResult
{
    Accepted,
    NotLeader,
    ChangeInProgress,
    AlreadyMember,
    UnknownMember,
    Invalid,
}
