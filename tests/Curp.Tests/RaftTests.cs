using CurpStore.GeoSim.Cluster;

namespace CurpStore.Curp.Tests;

/// <summary>The slow path: Raft behaviours the fast path relies on.</summary>
[TestClass]
public sealed class RaftTests
{
    [TestMethod]
    public void ElectsOneLeader_AndReplicatesToAll()
    {
        var cluster = new TestCluster(5);
        cluster.TickUntil(() => cluster.Nodes.Values.Count(n => n.IsLeader) == 1);
        var client = cluster.AddClient();
        for (var i = 0; i < 20; i++)
        {
            cluster.Put(client, $"k{i}", $"v{i}");
        }
        cluster.DeliverAll();
        cluster.Tick(3);
        Assert.AreEqual(20, cluster.Completions.Count(c => c.Succeeded));
        var applied = cluster.Nodes.Values.Select(n => n.AppliedIndex).Distinct().ToList();
        Assert.AreEqual(1, applied.Count, "every member applied the same prefix");
        Assert.AreEqual(1, cluster.Machines.Values.Select(m => m.StateDigest()).Distinct().Count());
    }

    [TestMethod]
    public void DivergentFollowerLog_IsRepairedByFastBacktracking()
    {
        var cluster = new TestCluster(3, c => c with { CheckQuorum = false });
        cluster.Elect(1);
        var client = cluster.AddClient();
        // Member 1 leads alone for a while: its entries never reach 2 and 3.
        cluster.Partition([1], [2, 3]);
        for (var i = 0; i < 30; i++)
        {
            cluster.Put(client, $"lost{i}", "x");
        }
        cluster.DeliverAll();
        cluster.Node(2).StartElection();
        cluster.DeliverAll();
        Assert.IsTrue(cluster.Node(2).IsLeader);
        cluster.Cut.Clear();
        cluster.Tick(5);
        Assert.IsFalse(cluster.Node(1).IsLeader, "the old leader steps down on seeing the newer term");
        cluster.TickUntil(() => cluster.Node(1).LastIndex == cluster.Node(2).LastIndex && cluster.Node(1).AppliedIndex == cluster.Node(2).AppliedIndex);
        Assert.AreEqual(cluster.Machines[2].StateDigest(), cluster.Machines[1].StateDigest());
    }

    [TestMethod]
    public void FollowerBehindTheCompactedLog_CatchesUpBySnapshot()
    {
        var cluster = new TestCluster(3, c => c with { RetainEntriesAfterSnapshot = 5 });
        cluster.Elect(1);
        var client = cluster.AddClient();
        cluster.Crash(3);
        for (var i = 0; i < 50; i++)
        {
            cluster.Put(client, $"k{i}", $"v{i}");
            cluster.DeliverAll();
        }
        cluster.Node(1).CompactLog();
        Assert.IsTrue(cluster.Node(1).FirstIndex > 10);
        cluster.Restart(3);
        cluster.TickUntil(() => cluster.Node(3).AppliedIndex == cluster.Node(1).AppliedIndex);
        Assert.AreEqual(1, cluster.Node(1).Counters.SnapshotsSent);
        Assert.AreEqual(cluster.Machines[1].StateDigest(), cluster.Machines[3].StateDigest());
        Assert.AreEqual("v49", cluster.Machines[3].Get("k49")!.Data);
    }

    [TestMethod]
    public void SingleMemberChanges_AddThenRemove_KeepTheClusterServing()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        Assert.AreEqual(MembershipChangeResult.Accepted, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.Remove, 3));
        Assert.AreEqual(MembershipChangeResult.ChangeInProgress, cluster.Node(1).ProposeMembershipChange(MembershipChangeKind.Remove, 2));
        cluster.Flush();
        cluster.DeliverAll();
        cluster.Tick(2);
        Assert.AreEqual(2, cluster.Node(1).Members.Voters.Count);
        Assert.AreEqual(2, cluster.Node(2).Members.Voters.Count);
        // Two voters: both are needed now, and writes still commit.
        var put = cluster.Put(client, "after", "removal");
        cluster.DeliverAll();
        cluster.Tick(2);
        Assert.IsTrue(cluster.CompletionOf(put.Id)!.Succeeded);
    }

    [TestMethod]
    public void TheLastVoter_CannotBeRemoved()
    {
        var single = new TestCluster(1);
        single.Elect(1);
        Assert.IsTrue(single.Node(1).IsLeader);
        Assert.AreEqual(MembershipChangeResult.Invalid, single.Node(1).ProposeMembershipChange(MembershipChangeKind.Remove, 1));
        Assert.AreEqual(MembershipChangeResult.UnknownMember, single.Node(1).ProposeMembershipChange(MembershipChangeKind.Remove, 9));
    }

    [TestMethod]
    public void LinearizableRead_WaitsForAnUncommittedConflictingWrite()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        var put = cluster.Put(client, "k", "new");
        // The write completes on the fast path but its commit has not reached the leader yet.
        cluster.DeliverAll(m => !(m is AppendResponse && m.To == 1));
        Assert.AreEqual(CompletionPath.Fast, cluster.CompletionOf(put.Id)!.Path);
        var read = new KvCommand(client.NextReadId(), KvOperation.Get, "k");
        client.Read(read);
        // Heartbeats confirm the leadership for the read, but the write's acknowledgements stay held: the read must wait.
        cluster.DeliverAll(m => m is not AppendResponse { ReadContext: 0, To: 1 });
        Assert.IsNull(cluster.CompletionOf(read.Id), "the read was served before the conflicting write was applied");
        cluster.DeliverAll();
        var answer = cluster.CompletionOf(read.Id);
        Assert.IsNotNull(answer);
        Assert.AreEqual("new", ((KvResult)answer.Result!).Value, "a read after a completed write must see it");
    }

    [TestMethod]
    public void IdleSession_IsExpired_AndItsLaterCommandsAreRefused()
    {
        var cluster = new TestCluster(3, c => c with { SessionIdleTicks = 20 });
        cluster.Elect(1);
        var client = cluster.AddClient();
        cluster.Tick(60);
        Assert.IsFalse(cluster.Node(1).OpenSessions.Contains(client.ClientId));
        var put = cluster.Put(client, "k", "v");
        cluster.DeliverAll();
        var completion = cluster.CompletionOf(put.Id);
        Assert.IsNotNull(completion);
        Assert.AreEqual(ProposeError.SessionExpired, completion.Error);
        Assert.IsNull(cluster.Machines[1].Get("k"));
    }
}
