using CurpStore.GeoSim.Cluster;

namespace CurpStore.Curp.Tests;

/// <summary>The recovery cases CURP must get right, each staged message by message.</summary>
[TestClass]
public sealed class RecoveryTests
{
    private static bool FromLeaderToPeers(Message m, ulong leader) => m.From == leader && m.To < TestCluster.FirstClient;

    [TestMethod]
    public void LeaderCrashAfterSpeculativeExecutionBeforeReplication_RecoversTheCommandWithItsAnsweredResult()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        var put = cluster.Put(client, "k", "v1");

        // Everything reaches its target except the leader's replication: it dies right after answering.
        cluster.DeliverAll(m => !FromLeaderToPeers(m, 1));
        var completion = cluster.CompletionOf(put.Id);
        Assert.IsNotNull(completion);
        Assert.AreEqual(CompletionPath.Fast, completion.Path);
        var answered = (KvResult)completion.Result!;
        cluster.Crash(1);

        cluster.TickUntil(() => cluster.Nodes.Values.Any(n => n.IsLeader));
        cluster.TickUntil(() => cluster.Machines[cluster.Leader.Id].Get("k") is not null);
        var value = cluster.Machines[cluster.Leader.Id].Get("k");
        Assert.AreEqual("v1", value!.Data);
        Assert.AreEqual(answered.ModRevision, value.ModRevision, "with nothing else in flight the recovered write keeps its revision");
        Assert.AreEqual(1, cluster.Nodes.Values.Sum(n => n.Counters.RecoveredCommands), $"leader {cluster.Leader.Id} term {cluster.Leader.Term}: " + string.Join(",", cluster.Nodes.Values.Select(n => $"{n.Id}:{n.Counters.RecoveredCommands}/{n.Counters.StaleCommandsOrdered}/{n.Counters.LeaderElected}")));
    }

    [TestMethod]
    public void WitnessCrash_ItsPoolSurvivesTheRestart_AndStillVouchesForTheCommand()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        var put = cluster.Put(client, "k", "v1");
        cluster.DeliverAll(m => !FromLeaderToPeers(m, 1));
        Assert.AreEqual(CompletionPath.Fast, cluster.CompletionOf(put.Id)!.Path);

        // Witness 2 crashes and restarts from its disk, then the leader dies: members 2 and 3 form the recovery
        // quorum, and 2's pool must still hold the command (rq = 2 of 2).
        cluster.Crash(2);
        cluster.Restart(2);
        Assert.AreEqual(1, cluster.Node(2).PoolCount, "the witness's promise is persisted");
        cluster.Crash(1);
        cluster.TickUntil(() => cluster.Nodes.Values.Any(n => n.IsLeader));
        cluster.TickUntil(() => cluster.Machines[cluster.Leader.Id].Get("k") is not null);
        Assert.AreEqual("v1", cluster.Machines[cluster.Leader.Id].Get("k")!.Data);
    }

    [TestMethod]
    public void RecoveredCommand_IsNotAppliedTwice_EvenWhenInTheNewLeadersLogAndRetried()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var client = cluster.AddClient();
        var put = cluster.Put(client, "k", "v1");
        // The leader's append reaches member 2 only; then the leader dies. Member 2 holds the command both in its log
        // and in its pool; member 3 in its pool.
        cluster.DeliverAll(m => !(m.From == 1 && m.To == 3) && !(m is AppendResponse && m.To == 1));
        cluster.Crash(1);
        cluster.Drop(m => m.From == 1);
        cluster.TickUntil(() => cluster.Nodes.Values.Any(n => n.IsLeader));
        var leader = cluster.Leader;
        Assert.AreEqual(2UL, leader.Id, "only member 2 has the longer log");

        // The client retries the same ProposeId against the new leader.
        cluster.TickUntil(() => cluster.Machines[2].Get("k") is not null && cluster.Machines[3].Get("k") is not null);
        client.Propose(put);
        cluster.Flush();
        cluster.DeliverAll();
        cluster.Tick(30);

        foreach (var id in new ulong[] { 2, 3 })
        {
            Assert.AreEqual(0, cluster.Machines[id].DuplicateApplies, $"member {id} applied a command twice");
            Assert.AreEqual(1, cluster.Machines[id].Get("k")!.Version, "one put, one version");
        }
        Assert.AreEqual(0, leader.Counters.RecoveredCommands, "the command was already in the new leader's log");
    }

    [TestMethod]
    public void ConflictingCommand_NeverCompletesOnTheFastPath()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var first = cluster.AddClient(TestCluster.FirstClient);
        var second = cluster.AddClient(TestCluster.FirstClient + 1);
        var a = cluster.Put(first, "hot", "a");
        var b = cluster.Put(second, "hot", "b");
        // Witnesses see a first, the leader sees b first: every member holds one of the two conflicting commands.
        cluster.DeliverAll(m => m is ProposeRequest p && p.Command.Id == b.Id && p.To == 1);
        cluster.DeliverAll(m => m is ProposeRequest p && p.Command.Id == a.Id && p.To != 1);
        cluster.DeliverAll();
        cluster.Tick(5);

        var completions = new[] { cluster.CompletionOf(a.Id)!, cluster.CompletionOf(b.Id)! };
        Assert.IsTrue(completions.All(c => c is { Succeeded: true }));
        Assert.IsFalse(completions.Any(c => c.Path == CompletionPath.Fast), "a conflicting command completed on the fast path");
        // Both are applied in the leader's order: b first, a last.
        Assert.AreEqual("a", cluster.Machines[1].Get("hot")!.Data);
        Assert.AreEqual(2, cluster.Machines[1].Get("hot")!.Version);
    }

    [TestMethod]
    public void StaleLeaderSpeculativeAnswer_IsNeverAcceptedAfterANewTerm()
    {
        var cluster = new TestCluster(3, c => c with { CheckQuorum = false });
        cluster.Elect(1);
        var client = cluster.AddClient();
        // Member 1 is cut off from the others (not from the client) and a new leader is elected without it.
        cluster.Partition([1], [2, 3]);
        cluster.Node(2).StartElection();
        cluster.DeliverAll();
        Assert.IsTrue(cluster.Node(2).IsLeader);
        Assert.IsTrue(cluster.Node(1).IsLeader, "the old leader does not know yet");

        // A new key: member 1 speculates in the old term, witnesses 2 and 3... member 2 leads, member 3 accepts in the
        // new term. The old leader's answer must not be combined with new-term acceptances.
        var put = new KvCommand(client.NextId(), KvOperation.Put, "k", "v");
        client.Propose(put);
        cluster.Flush();
        cluster.DeliverAll(m => m.To != 2);
        var early = cluster.CompletionOf(put.Id);
        Assert.IsNull(early, "completed from a stale leader's speculative answer");

        // The new leader orders it; the answer comes from the new term.
        cluster.DeliverAll();
        var done = cluster.CompletionOf(put.Id);
        Assert.IsNotNull(done);
        Assert.IsTrue(done.Succeeded);
        Assert.AreEqual("v", cluster.Machines[2].Get("k")!.Data);
    }
}
