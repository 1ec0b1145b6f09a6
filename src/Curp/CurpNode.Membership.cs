namespace CurpStore.Curp;

public enum MembershipChangeKind
{
    AddVoter,
    AddLearner,
    PromoteLearner,
    Remove,
}

/// <summary>Single-member changes (Raft thesis §4.1): each configuration differs from the previous one by one member, so
/// any two majorities overlap; a configuration takes effect as soon as it is in the log, and only one may be
/// uncommitted at a time.</summary>
public sealed partial class CurpNode
{
    /// <summary>Index of the entry that set the current configuration (0: the bootstrap one).</summary>
    private ulong membershipIndex;

    public MembershipChangeResult ProposeMembershipChange(MembershipChangeKind kind, ulong member)
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
                next = Members with { Voters = Members.Voters.Add(member) };
                break;
            case MembershipChangeKind.AddLearner when !Members.Contains(member):
                next = Members with { Learners = Members.Learners.Add(member) };
                break;
            case MembershipChangeKind.PromoteLearner when Members.Learners.Contains(member):
                next = new Membership(Members.Voters.Add(member), Members.Learners.Remove(member));
                break;
            case MembershipChangeKind.Remove when Members.Contains(member):
                if (Members.Voters.Count == 1 && Members.Voters.Contains(member))
                {
                    return MembershipChangeResult.Invalid; // a cluster cannot remove its last voter
                }
                next = new Membership(Members.Voters.Remove(member), Members.Learners.Remove(member));
                break;
            case MembershipChangeKind.Remove or MembershipChangeKind.PromoteLearner:
                return MembershipChangeResult.UnknownMember;
            default:
                return MembershipChangeResult.AlreadyMember;
        }
        AppendAsLeader(new MembershipPayload(next));
        return MembershipChangeResult.Accepted;
    }

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
