using CurpStore.Server.Hosting;

namespace CurpStore.Server.Members;

/// <summary>
/// Decides from what a member applied that it was removed from the cluster. A configuration without the member means
/// "removed" only once the member has been in an applied configuration of the log: a member that joins receives the
/// leader's latest snapshot, whose configuration may predate the MemberAdd that added it (the add is a later log entry
/// on its way). Taking that for a removal stopped joining members for good (found by the fault harness: a learner
/// added under load after the leader's snapshot stopped itself on installing it). etcd likewise stops a member only
/// when its id is among the removed ones, never for being absent from an older configuration.
/// </summary>
public sealed class RemovalDetector(ulong self)
{
    private bool wasMember;

    /// <summary>Feeds the member's latest status; true once it shows the member's removal.</summary>
    public bool IsRemoved(HostStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var applied = status.AppliedIndex >= status.MembershipIndex;
        // The bootstrap configuration (index 0) comes from the command line or a member list, not from the log: it
        // lists a joining member before the log has added it.
        if (applied && status.MembershipIndex > 0 && status.Members.Contains(self))
        {
            wasMember = true;
        }
        return wasMember && status.IsRemoved(self);
    }
}
