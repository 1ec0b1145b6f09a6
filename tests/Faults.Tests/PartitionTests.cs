using CurpStore.Faults;

namespace CurpStore.Faults.Tests;

[TestClass]
public sealed class PartitionTests
{
    private static readonly int[] Three = [0, 1, 2];
    private static readonly int[] Five = [0, 1, 2, 3, 4];

    [TestMethod]
    [DataRow(3)]
    [DataRow(5)]
    public void Isolate_PutsTheTargetAloneAgainstEveryOtherMember(int n)
    {
        var members = n == 3 ? Three : Five;
        for (var target = 0; target < 2 * n; target++)
        {
            var partition = Partition.For(NemesisKind.Isolate, members, target, leader: null);
            CollectionAssert.AreEqual(new[] { target % n }, partition.SideA.ToArray());
            CollectionAssert.AreEquivalent(members.Where(m => m != target % n).ToArray(), partition.SideB.ToArray());
            Assert.HasCount(2 * (n - 1), partition.CutLinks.ToList(), "both directions of every link of the isolated member");
        }
    }

    [TestMethod]
    [DataRow(3, 1)]
    [DataRow(5, 2)]
    public void Splits_AreMinorityAgainstMajority_WithTheLeaderOnTheNamedSide(int n, int minority)
    {
        var members = n == 3 ? Three : Five;
        for (var leader = 0; leader < n; leader++)
        {
            for (var target = 0; target < n; target++)
            {
                var withLeader = Partition.For(NemesisKind.SplitLeaderInMinority, members, target, leader);
                Assert.HasCount(minority, withLeader.SideA);
                Assert.Contains(leader, withLeader.SideA);
                AssertSplitsAll(members, withLeader);

                var withoutLeader = Partition.For(NemesisKind.SplitLeaderInMajority, members, target, leader);
                Assert.HasCount(minority, withoutLeader.SideA);
                Assert.Contains(leader, withoutLeader.SideB);
                AssertSplitsAll(members, withoutLeader);
            }
        }
    }

    [TestMethod]
    public void Splits_DrawTheOtherMembersFromTheTarget()
    {
        var sides = Enumerable.Range(0, 5).Select(t => string.Join(',', Partition.For(NemesisKind.SplitLeaderInMajority, Five, t, leader: 0).SideA)).ToHashSet();
        Assert.IsGreaterThan(1, sides.Count, "different targets put different members in the minority");
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(5)]
    public void Bridge_KeepsTheTargetOutOfBothSides_AndSplitsTheRestEvenly(int n)
    {
        var members = n == 3 ? Three : Five;
        for (var target = 0; target < n; target++)
        {
            var partition = Partition.For(NemesisKind.Bridge, members, target, leader: null);
            Assert.DoesNotContain(target, partition.SideA);
            Assert.DoesNotContain(target, partition.SideB);
            Assert.HasCount((n - 1) / 2, partition.SideA);
            Assert.HasCount((n - 1) / 2, partition.SideB);
            CollectionAssert.AreEquivalent(members.Where(m => m != target).ToArray(), partition.SideA.Concat(partition.SideB).ToArray());
            Assert.IsFalse(partition.CutLinks.Any(l => l.From == target || l.To == target), "the bridge keeps every link");
        }
    }

    [TestMethod]
    public void ASplitWithoutALeaderAmongTheMembers_IsRefused()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Partition.For(NemesisKind.SplitLeaderInMinority, Three, 0, leader: null));
        Assert.ThrowsExactly<ArgumentException>(() => Partition.For(NemesisKind.SplitLeaderInMajority, Three, 0, leader: 3));
        Assert.ThrowsExactly<ArgumentException>(() => Partition.For(NemesisKind.Pause, Three, 0, leader: 0));
    }

    [TestMethod]
    public void MembersAreSlots_NotPositions()
    {
        // After a membership change the members are slots 0, 2, 3 (slot 1 left): sides hold only those.
        int[] members = [0, 2, 3];
        var partition = Partition.For(NemesisKind.Isolate, members, target: 1, leader: null);
        CollectionAssert.AreEqual(new[] { 2 }, partition.SideA.ToArray());
        Assert.AreEqual("m3 | m1,m4", partition.ToString());
    }

    private static void AssertSplitsAll(int[] members, Partition partition)
    {
        CollectionAssert.AreEquivalent(members, partition.SideA.Concat(partition.SideB).ToArray());
        Assert.HasCount(2 * partition.SideA.Count * partition.SideB.Count, partition.CutLinks.ToList());
    }
}
