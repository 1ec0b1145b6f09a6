using System.Collections.Immutable;
using CurpStore.Curp;
using CurpStore.Server.Hosting;
using CurpStore.Server.Members;

namespace CurpStore.Server.Tests.Cluster;

/// <summary>When a member concludes it was removed (and stops, as etcd does).</summary>
[TestClass]
public sealed class RemovalDetectorTests
{
    private const ulong Self = 4;

    private static HostStatus Status(ulong membershipIndex, ulong appliedIndex, params ulong[] voters) =>
        HostStatus.Unknown with { AppliedIndex = appliedIndex, LeaderId = 1, Members = Membership.Of(voters), MembershipIndex = membershipIndex };

    private static HostStatus WithLearner(HostStatus status, ulong learner) =>
        status with { Members = status.Members with { Learners = ImmutableSortedSet.Create(learner) } };

    /// <summary>Found by the fault harness: a learner added after the leader's latest snapshot installs that snapshot,
    /// whose configuration does not list it yet (its MemberAdd is a later entry). It must not stop.</summary>
    [TestMethod]
    public void AJoiningMember_InstallingASnapshotOlderThanItsAdd_IsNotRemoved()
    {
        var detector = new RemovalDetector(Self);
        Assert.IsFalse(detector.IsRemoved(WithLearner(Status(0, 0, 1, 2, 3), Self)), "bootstrap configuration from the member list");
        Assert.IsFalse(detector.IsRemoved(Status(501, 501, 1, 2, 3)), "the leader's snapshot at 501 predates the add at 728");
        Assert.IsFalse(detector.IsRemoved(WithLearner(Status(728, 728, 1, 2, 3), Self)), "the add itself");
    }

    [TestMethod]
    public void AMemberThatWasInTheLog_AndAppliesAConfigurationWithoutIt_IsRemoved()
    {
        var detector = new RemovalDetector(Self);
        Assert.IsFalse(detector.IsRemoved(Status(5, 5, 1, 2, 3, Self)));
        Assert.IsFalse(detector.IsRemoved(Status(9, 8, 1, 2, 3)), "the removal is not applied yet");
        Assert.IsTrue(detector.IsRemoved(Status(9, 9, 1, 2, 3)));
    }

    [TestMethod]
    public void AMemberRemovedWhileDown_LearnsItFromASnapshot()
    {
        var detector = new RemovalDetector(Self);
        Assert.IsFalse(detector.IsRemoved(Status(17, 40, 1, 2, 3, Self)), "recovered from its own data dir");
        Assert.IsTrue(detector.IsRemoved(Status(900, 900, 1, 2, 3)), "the leader's snapshot after the removal");
    }
}
