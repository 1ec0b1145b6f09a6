using System.Collections.Immutable;
using CurpStore.GeoSim.Cluster;

namespace CurpStore.Curp.Tests;

[TestClass]
public sealed class SnapshotInstallTests
{
    private static readonly Membership Members = Membership.Of([1UL, 2UL, 3UL]);

    private static CurpNode FollowerWithEntries(int count)
    {
        var follower = new CurpNode(new NodeConfig { NodeId = 3, RandomSeed = 1 }, Members, new KvStateMachine());
        var entries = Enumerable.Range(1, count).Select(i => new LogEntry((ulong)i, 1, NoopPayload.Instance)).ToImmutableArray();
        follower.Step(new AppendRequest(1, 3, 1, 0, 0, entries, 0, 0));
        follower.Advance(follower.Ready());
        return follower;
    }

    private static Snapshot SnapshotAt(ulong index, ulong term) =>
        new(index, term, Members, SessionTableImage.Empty(16), new KvStateMachine().TakeSnapshot());

    [TestMethod]
    public void SnapshotOfAnEntryTheLogHolds_KeepsTheEntriesAfterIt()
    {
        var follower = FollowerWithEntries(10);
        follower.Step(new InstallSnapshotRequest(1, 3, 1, SnapshotAt(5, 1)));
        var ready = follower.Ready();
        Assert.AreEqual(10UL, follower.LastIndex, "acknowledged entries after the snapshot must survive");
        Assert.AreEqual(6UL, follower.FirstIndex);
        Assert.AreEqual(5UL, follower.AppliedIndex);
        Assert.IsNotNull(ready.Snapshot);
    }

    [TestMethod]
    public void SnapshotOfAnEntryTheLogDoesNotHold_ReplacesTheLog()
    {
        var follower = FollowerWithEntries(3);
        follower.Step(new InstallSnapshotRequest(1, 3, 2, SnapshotAt(8, 2)));
        Assert.AreEqual(8UL, follower.LastIndex);
        Assert.AreEqual(9UL, follower.FirstIndex);
        Assert.AreEqual(8UL, follower.CommitIndex);
    }
}
