namespace CurpStore.Curp.Tests;

[TestClass]
public sealed class QuorumTests
{
    // n, f, q, sq, rq: written out from the CURP paper's definitions, not computed.
    [TestMethod]
    [DataRow(1, 0, 1, 1, 1)]
    [DataRow(2, 0, 1, 1, 1)]
    [DataRow(3, 1, 2, 3, 2)]
    [DataRow(4, 1, 2, 3, 2)]
    [DataRow(5, 2, 3, 4, 2)]
    [DataRow(6, 2, 3, 4, 2)]
    [DataRow(7, 3, 4, 6, 3)]
    [DataRow(8, 3, 4, 6, 3)]
    [DataRow(9, 4, 5, 7, 3)]
    public void QuorumSizes(int members, int faults, int majority, int superQuorum, int recovery)
    {
        var quorum = new Quorum(members);
        Assert.AreEqual(faults, quorum.FaultsTolerated);
        Assert.AreEqual(majority, quorum.Majority);
        Assert.AreEqual(superQuorum, quorum.SuperQuorum);
        Assert.AreEqual(recovery, quorum.Recovery);
    }

    [TestMethod]
    public void RecoveryIsUnambiguous_ForEveryOddClusterSize()
    {
        for (var n = 1; n <= 9; n += 2)
        {
            var q = new Quorum(n);
            // A fast-path command survives the leader in at least rq members of any quorum of survivors...
            Assert.IsTrue(q.Majority + (q.SuperQuorum - 1) - (n - 1) >= q.Recovery || n == 1, $"n={n}");
            // ...and two conflicting commands cannot both reach rq inside one quorum.
            Assert.IsTrue(2 * q.Recovery > q.Majority, $"n={n}");
        }
    }
}
