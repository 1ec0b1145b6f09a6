namespace CurpStore.Store.Tests;

/// <summary>The key index's per-key history, on the example from etcd's keyIndex documentation:
/// put(1.0); put(2.0); tombstone(3.0); put(4.0); tombstone(5.0).</summary>
[TestClass]
public sealed class KeyHistoryTests
{
    private static KeyHistory Example()
    {
        var history = new KeyHistory(StoreDriver.B("foo"));
        history.Put(new Revision(1, 0));
        history.Put(new Revision(2, 0));
        Assert.IsTrue(history.Tombstone(new Revision(3, 0)));
        history.Put(new Revision(4, 0));
        Assert.IsTrue(history.Tombstone(new Revision(5, 0)));
        return history;
    }

    private static string Shape(KeyHistory history) =>
        string.Join(" | ", history.Generations.Select(g => string.Join(",", g.Revisions.Select(r => r.Main))));

    [TestMethod]
    public void Get_FindsTheVersionAliveAtEachRevision()
    {
        var history = Example();
        Assert.IsTrue(history.TryGet(2, out var modified, out var created, out var version));
        Assert.AreEqual((2L, 1L, 2L), (modified.Main, created.Main, version));
        Assert.IsFalse(history.TryGet(3, out _, out _, out _), "deleted at 3");
        Assert.IsTrue(history.TryGet(4, out _, out created, out version));
        Assert.AreEqual((4L, 1L), (created.Main, version));
        Assert.IsFalse(history.TryGet(6, out _, out _, out _));
        Assert.IsFalse(history.TryGet(0, out _, out _, out _));
    }

    [TestMethod]
    public void Compact_FollowsEtcdsExample_KeepingATombstoneAtTheCompactedRevision()
    {
        var history = Example();
        var keep = new HashSet<Revision>();
        history.Compact(2, keep);
        Assert.AreEqual("2,3 | 4,5 | ", Shape(history));
        history.Compact(4, keep);
        Assert.AreEqual("4,5 | ", Shape(history));
        history.Compact(5, keep);
        Assert.AreEqual("5 | ", Shape(history));
        CollectionAssert.Contains(keep.ToList(), new Revision(5, 0));
        history.Compact(6, keep);
        Assert.IsTrue(history.IsEmpty);
    }

    [TestMethod]
    public void Compaction_KeepsVersionNumbers()
    {
        var history = new KeyHistory(StoreDriver.B("k"));
        for (var main = 1; main <= 5; main++)
        {
            history.Put(new Revision(main, 0));
        }
        history.Compact(4, []);
        Assert.IsTrue(history.TryGet(4, out _, out _, out var atFour));
        Assert.IsTrue(history.TryGet(9, out _, out var created, out var latest));
        Assert.AreEqual((4L, 5L, 1L), (atFour, latest, created.Main));
    }

    [TestMethod]
    public void TombstoneOfADeletedKey_RecordsNothing()
    {
        var history = Example();
        Assert.IsFalse(history.Tombstone(new Revision(6, 0)));
        Assert.AreEqual(new Revision(5, 0), history.Modified);
    }

    [TestMethod]
    public void PutBelowTheLastChange_IsABug()
    {
        var history = Example();
        Assert.ThrowsExactly<InvalidOperationException>(() => history.Put(new Revision(5, 0)));
    }

    [TestMethod]
    public void Compact_AtARevisionThatDeletedAndRecreatedTheKey_KeepsTheTombstoneAndThePut()
    {
        var history = new KeyHistory(StoreDriver.B("k"));
        history.Put(new Revision(2, 0));
        history.Tombstone(new Revision(3, 0));
        history.Put(new Revision(3, 1));
        var keep = new HashSet<Revision>();
        history.Compact(3, keep);
        CollectionAssert.AreEquivalent(new[] { new Revision(3, 0), new Revision(3, 1) }, keep.ToList());
        Assert.IsTrue(history.TryGet(3, out var modified, out _, out _));
        Assert.AreEqual(new Revision(3, 1), modified);
    }
}
