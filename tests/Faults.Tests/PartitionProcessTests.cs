using System.Diagnostics;
using CurpStore.Faults;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults.Tests;

/// <summary>A two-way partition on real members (the fault harness's cluster in the rig's namespaces; needs root): the
/// leader cut off in a minority. Its clients must see errors or timeouts, never the state from before the majority's
/// writes; it steps down (check-quorum); the majority elects a leader and serves; after healing the old leader holds
/// the majority's writes.</summary>
[TestClass]
public sealed class PartitionProcessTests
{
    /// <summary>Bound on waiting for a leader, a write or convergence (a loaded 2-core machine: generous).</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    /// <summary>Bound on one call to the cut-off member; its outcome must be an error by then.</summary>
    private static readonly TimeSpan CutOffCallTimeout = TimeSpan.FromSeconds(3);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task LeaderCutOffInAMinority_AnswersNoStaleRead_AcknowledgesNoWrite_StepsDown_AndCatchesUpAfterHealing()
    {
        var root = Directory.CreateTempSubdirectory("curpstore-partition-").FullName;
        var cluster = await MemberCluster.CreateAsync(root, 3, [], line => TestContext.WriteLine(line));
        await using (cluster)
        {
            cluster.StartAll();
            Assert.IsTrue(await cluster.WaitForLeaderEverywhereAsync(WaitLimit), $"no leader; logs in {root}");
            var oldLeader = await cluster.LeaderSlotAsync() ?? throw new AssertFailedException("no member names a leader");
            await PutUntilAnsweredAsync(cluster, oldLeader, "/partition/k", "before");

            var partition = Partition.For(NemesisKind.SplitLeaderInMinority, cluster.MemberSlots, target: 0, oldLeader);
            CollectionAssert.AreEqual(new[] { oldLeader }, partition.SideA.ToArray());
            cluster.Cut(partition);
            var majority = partition.SideB[0];
            await PutUntilAnsweredAsync(cluster, majority, "/partition/k", "after");

            // The majority has "after" acknowledged: the cut-off member must neither read "before" linearizably nor
            // acknowledge a write of its own while the cut holds.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var read = await TryAsync(cluster.Channel(oldLeader).UnaryAsync(KVMethods.Range,
                    new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("/partition/k") }, new CallOptions(Deadline: DateTime.UtcNow + CutOffCallTimeout)));
                Assert.IsTrue(read is null || read.Kvs.Single().Value.ToStringUtf8() == "after",
                    $"the cut-off old leader answered a linearizable read with {read?.Kvs.Single().Value.ToStringUtf8()}, a value the majority overwrote (an acknowledged write)");
                var write = await TryAsync(cluster.Channel(oldLeader).UnaryAsync(KVMethods.Put,
                    new Pb.PutRequest { Key = ByteString.CopyFromUtf8("/partition/minority"), Value = ByteString.CopyFromUtf8($"w{attempt}") },
                    new CallOptions(Deadline: DateTime.UtcNow + CutOffCallTimeout)));
                Assert.IsNull(write, $"the cut-off old leader acknowledged a write at revision {write?.Header.Revision} without a quorum");
            }

            // Check-quorum: a leader that hears from no quorum steps down (as etcd's), so its clients are not told it leads.
            var steppingDown = Stopwatch.StartNew();
            var steppedDown = false;
            while (steppingDown.Elapsed < WaitLimit && !steppedDown)
            {
                var status = await TryAsync(cluster.Channel(oldLeader).UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), MemberCluster.Deadline()));
                steppedDown = status is not null && status.Leader != status.Header.MemberId;
                if (!steppedDown)
                {
                    await Task.Delay(500);
                }
            }
            Assert.IsTrue(steppedDown, $"the cut-off old leader still names itself leader {WaitLimit} after the cut; logs in {root}");

            cluster.HealLinks();
            var converged = Stopwatch.StartNew();
            string? held = null;
            while (converged.Elapsed < WaitLimit && held != "after")
            {
                var read = await TryAsync(cluster.Channel(oldLeader).UnaryAsync(KVMethods.Range,
                    new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("/partition/k"), Serializable = true }, MemberCluster.Deadline()));
                held = read?.Kvs.SingleOrDefault()?.Value.ToStringUtf8();
                if (held != "after")
                {
                    await Task.Delay(500);
                }
            }
            Assert.AreEqual("after", held, $"the old leader did not catch up within {WaitLimit} of healing; logs in {root}");
        }
        Directory.Delete(root, recursive: true);
    }

    private static async Task PutUntilAnsweredAsync(MemberCluster cluster, int slot, string key, string value)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (DateTime.UtcNow < deadline)
        {
            var put = await TryAsync(cluster.Channel(slot).UnaryAsync(KVMethods.Put,
                new Pb.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, MemberCluster.Deadline()));
            if (put is not null)
            {
                return;
            }
            await Task.Delay(500);
        }
        Assert.Fail($"{cluster.Name(slot)} did not acknowledge {key}={value} within {WaitLimit}");
    }

    /// <summary>The call's answer, or null when it failed (error, deadline, connection).</summary>
    private static async Task<T?> TryAsync<T>(Task<T> call) where T : class
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (MemberCluster.IsCallFailure(e))
        {
            return null;
        }
    }
}
