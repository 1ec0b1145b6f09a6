namespace CurpStore.Store.Tests;

/// <summary>The engine contract (ordered scans, meta prefixes, batch order), on the in-memory engine.</summary>
[TestClass]
public sealed class InMemoryKvEngineTests
{
    private static KvRecord Record(long main, long sub = 0) =>
        new(new Revision(main, sub), new KeyValue { Key = StoreDriver.B($"k{main}.{sub}"), ModRevision = main }, IsTombstone: false);

    [TestMethod]
    public void ScanRecords_StartsAtTheGivenRevision_InRevisionOrder()
    {
        using var engine = new InMemoryKvEngine();
        var batch = new KvWriteBatch();
        batch.Puts.AddRange([Record(3, 1), Record(2), Record(3), Record(5)]);
        engine.Commit(batch);
        CollectionAssert.AreEqual(new[] { new Revision(3, 0), new Revision(3, 1), new Revision(5, 0) }, engine.ScanRecords(new Revision(3, 0)).Select(r => r.Revision).ToArray());
        CollectionAssert.AreEqual(new[] { new Revision(5, 0) }, engine.ScanRecords(new Revision(3, 2)).Select(r => r.Revision).ToArray());
        Assert.AreEqual(0, engine.ScanRecords(new Revision(6, 0)).Count());
        Assert.AreEqual(new Revision(2, 0), engine.GetRecord(new Revision(2, 0))!.Revision);
        Assert.IsNull(engine.GetRecord(new Revision(4, 0)));
    }

    [TestMethod]
    public void Batch_DeletesManyOrFew_AndClearsFirstWhenAsked()
    {
        using var engine = new InMemoryKvEngine();
        var fill = new KvWriteBatch();
        fill.Puts.AddRange(Enumerable.Range(1, 100).Select(i => Record(i)));
        engine.Commit(fill);
        var few = new KvWriteBatch();
        few.Deletes.AddRange([new Revision(1, 0), new Revision(50, 0)]);
        engine.Commit(few);
        var many = new KvWriteBatch();
        many.Deletes.AddRange(Enumerable.Range(2, 40).Select(i => new Revision(i, 0)));
        many.Puts.Add(Record(101));
        engine.Commit(many);
        Assert.AreEqual(100 - 2 - 40 + 1, engine.RecordCount);
        Assert.AreEqual(new Revision(42, 0), engine.ScanRecords(Revision.Zero).First().Revision);
        var replace = new KvWriteBatch { ClearFirst = true };
        replace.Puts.Add(Record(7));
        replace.Meta["x"] = [1];
        engine.Commit(replace);
        Assert.AreEqual(1, engine.RecordCount);
        CollectionAssert.AreEqual(new byte[] { 1 }, engine.GetMeta("x"));
    }

    [TestMethod]
    public void ScanMeta_ReturnsOnlyThePrefix_InOrdinalOrder_AndNullDeletes()
    {
        using var engine = new InMemoryKvEngine();
        var batch = new KvWriteBatch();
        batch.Meta["lease/2"] = [2];
        batch.Meta["lease/1"] = [1];
        batch.Meta["leasf"] = [9];
        batch.Meta["a"] = [0];
        engine.Commit(batch);
        CollectionAssert.AreEqual(new[] { "lease/1", "lease/2" }, engine.ScanMeta("lease/").Select(e => e.Key).ToArray());
        var delete = new KvWriteBatch();
        delete.Meta["lease/1"] = null;
        engine.Commit(delete);
        Assert.IsNull(engine.GetMeta("lease/1"));
        Assert.AreEqual(4, engine.ScanMeta("").Count() + 1);
    }
}
