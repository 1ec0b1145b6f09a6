namespace CurpStore.Curp.Tests;

/// <summary>Single-member changes with member attributes (what the server keeps etcd's names and URLs in): learners
/// join, catch up and are promoted; attributes travel with the configuration through the log and snapshots.</summary>
[TestClass]
public sealed class MembershipTests
{
    [TestMethod]
    public void ALearner_JoinsFromTheLog_ThenIsPromotedToVoter()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        cluster.Put(client, "before", "join");
        cluster.DeliverAll();
        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.AddLearner, 4, "learner-4"));
        cluster.DeliverAll();
        Assert.IsFalse(cluster.Node(1).IsLearnerInSync(4), "the learner has not started, so it holds nothing");

        cluster.Join(4);
        cluster.TickUntil(() => cluster.Node(4).AppliedIndex == cluster.Node(1).AppliedIndex);
        Assert.AreEqual("join", cluster.Machines[4].Get("before")!.Data);
        Assert.IsTrue(cluster.Node(4).Members.Learners.Contains(4));
        Assert.AreEqual("learner-4", cluster.Node(4).Members.Attributes[4]);
        Assert.AreEqual(2, cluster.Node(1).Members.Quorum.Majority, "a learner does not vote");
        Assert.IsTrue(cluster.Node(1).IsLearnerInSync(4));
        Assert.IsFalse(cluster.Node(1).IsLearnerInSync(2), "a voter is no learner");

        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.PromoteLearner, 4));
        cluster.TickUntil(() => cluster.Node(4).Members.Voters.Contains(4));
        Assert.AreEqual(4, cluster.Node(2).Members.Voters.Count);
        Assert.AreEqual("learner-4", cluster.Node(2).Members.Attributes[4], "promotion keeps the attributes");
    }

    [TestMethod]
    public void AMemberJoiningAfterCompaction_LearnsTheAttributesFromTheSnapshot()
    {
        var cluster = new TestCluster(3, c => c with { RetainEntriesAfterSnapshot = 2 });
        cluster.Elect(1);
        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.SetAttributes, 2, "two"));
        cluster.DeliverAll();
        cluster.Tick(2);
        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.AddVoter, 4, "four"));
        cluster.DeliverAll();
        var client = cluster.AddClient();
        for (var i = 0; i < 30; i++)
        {
            cluster.Put(client, $"k{i}", $"v{i}");
            cluster.DeliverAll();
        }
        cluster.Node(1).CompactLog();
        Assert.IsTrue(cluster.Node(1).FirstIndex > 5, "the membership entries are behind the snapshot");

        cluster.Join(4);
        cluster.TickUntil(() => cluster.Node(4).AppliedIndex == cluster.Node(1).AppliedIndex);
        Assert.AreEqual(1, cluster.Node(1).Counters.SnapshotsSent);
        Assert.AreEqual("two", cluster.Node(4).Members.Attributes[2]);
        Assert.AreEqual("four", cluster.Node(4).Members.Attributes[4]);
        Assert.AreEqual(4, cluster.Node(4).Members.Voters.Count);
        Assert.AreEqual("v29", cluster.Machines[4].Get("k29")!.Data);
    }

    [TestMethod]
    public void SetAttributes_ReplacesOnlyTheAttributes_AndRemoveForgetsThem()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.AreEqual(MembershipChangeResult.UnknownMember, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.SetAttributes, 9, "nine"));
        Assert.AreEqual(MembershipChangeResult.NotLeader, cluster.Node(2).ProposeMembershipChange(MembershipChangeKind.SetAttributes, 2, "two"));
        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.SetAttributes, 3, "three"));
        cluster.DeliverAll();
        cluster.Tick(2);
        Assert.AreEqual("three", cluster.Node(2).Members.Attributes[3]);
        Assert.AreEqual(3, cluster.Node(2).Members.Voters.Count);

        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.Remove, 3));
        cluster.DeliverAll();
        cluster.Tick(2);
        Assert.IsFalse(cluster.Node(2).Members.Attributes.ContainsKey(3));
        Assert.IsFalse(cluster.Node(2).Members.Contains(3));
    }

    [TestMethod]
    public void RecentlyHeardMembers_AreThoseThatAnsweredTheLeaderWithinAnElectionTimeout()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Tick(2);
        CollectionAssert.AreEquivalent(new ulong[] { 1, 2, 3 }, cluster.Node(1).RecentlyHeardMembers().ToArray());
        CollectionAssert.AreEquivalent(new ulong[] { 2 }, cluster.Node(2).RecentlyHeardMembers().ToArray(), "a follower knows only itself");
        cluster.Crash(3);
        cluster.Tick(12);
        CollectionAssert.AreEquivalent(new ulong[] { 1, 2 }, cluster.Node(1).RecentlyHeardMembers().ToArray());
    }
}
