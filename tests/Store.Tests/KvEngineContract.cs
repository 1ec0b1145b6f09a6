namespace CurpStore.Store.Tests;

/// <summary>
/// The engine contract (ordered scans, meta prefixes, batch order, what a restart keeps), written once and run on every
/// engine. <see cref="Reopen"/> models a restart after a checkpoint: identity for the in-memory engine, close and recover
/// for a persistent one.
/// </summary>
public abstract class KvEngineContract : EngineTestBase
{
    internal static KvRecord Record(long main, long sub = 0, string value = "", bool tombstone = false) =>
        new(new Revision(main, sub), new KeyValue
        {
            Key = StoreDriver.B($"k{main}.{sub}"),
            Value = StoreDriver.B(value),
            CreateRevision = main - 1,
            ModRevision = main,
            Version = sub + 1,
            Lease = main * 1_000_000_007L,
        }, tombstone);

    private IKvEngine New() => Track(CreateEngine());

    private IKvEngine Restart(IKvEngine engine) => Track(Reopen(engine));

    private static Revision[] Revisions(IKvEngine engine, Revision from) => [.. engine.ScanRecords(from).Select(r => r.Revision)];

    [TestMethod]
    public void ScanRecords_StartsAtTheGivenRevision_InRevisionOrder()
    {
        var engine = New();
        var batch = new KvWriteBatch();
        batch.Puts.AddRange([Record(3, 1), Record(2), Record(3), Record(5)]);
        engine.Commit(batch);
        CollectionAssert.AreEqual(new[] { new Revision(3, 0), new Revision(3, 1), new Revision(5, 0) }, Revisions(engine, new Revision(3, 0)));
        CollectionAssert.AreEqual(new[] { new Revision(5, 0) }, Revisions(engine, new Revision(3, 2)));
        Assert.AreEqual(0, engine.ScanRecords(new Revision(6, 0)).Count());
        Assert.AreEqual(new Revision(2, 0), engine.GetRecord(new Revision(2, 0))!.Revision);
        Assert.IsNull(engine.GetRecord(new Revision(4, 0)));
    }

    [TestMethod]
    public void Batch_DeletesManyOrFew_AndClearsFirstWhenAsked()
    {
        var engine = New();
        var fill = new KvWriteBatch();
        fill.Puts.AddRange(Enumerable.Range(1, 100).Select(i => Record(i)));
        engine.Commit(fill);
        var few = new KvWriteBatch();
        few.Deletes.AddRange([new Revision(1, 0), new Revision(50, 0), new Revision(500, 0)]);
        engine.Commit(few);
        var many = new KvWriteBatch();
        many.Deletes.AddRange(Enumerable.Range(2, 40).Select(i => new Revision(i, 0)));
        many.Puts.Add(Record(101));
        engine.Commit(many);
        Assert.AreEqual(100 - 2 - 40 + 1, engine.ScanRecords(Revision.Zero).Count());
        Assert.AreEqual(new Revision(42, 0), engine.ScanRecords(Revision.Zero).First().Revision);
        Assert.IsNull(engine.GetRecord(new Revision(50, 0)));
        var replace = new KvWriteBatch { ClearFirst = true };
        replace.Puts.Add(Record(7));
        replace.Meta["x"] = [1];
        engine.Commit(replace);
        CollectionAssert.AreEqual(new[] { new Revision(7, 0) }, Revisions(engine, Revision.Zero));
        CollectionAssert.AreEqual(new byte[] { 1 }, engine.GetMeta("x"));
    }

    [TestMethod]
    public void ScanMeta_ReturnsOnlyThePrefix_InOrdinalOrder_AndNullDeletes()
    {
        var engine = New();
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
        Assert.AreEqual(3, engine.ScanMeta("").Count());
    }

    [TestMethod]
    public void Reopen_KeepsEveryFieldOfEveryRecord_AndTheMeta()
    {
        var engine = New();
        var batch = new KvWriteBatch();
        var records = new[] { Record(2, value: "two"), Record(3, 0, value: new string('v', 5000)), Record(3, 1, tombstone: true), Record(9, value: "") };
        batch.Puts.AddRange(records);
        batch.Meta["consistent_index"] = [7, 0, 0, 0, 0, 0, 0, 0];
        batch.Meta["lease/1"] = [1, 2, 3];
        engine.Commit(batch);
        var reopened = Restart(engine);
        CollectionAssert.AreEqual(records, reopened.ScanRecords(Revision.Zero).ToArray());
        Assert.AreEqual(records[1], reopened.GetRecord(new Revision(3, 0)));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, reopened.GetMeta("lease/1"));
        CollectionAssert.AreEqual(new[] { "consistent_index", "lease/1" }, reopened.ScanMeta("").Select(e => e.Key).ToArray());
    }

    [TestMethod]
    public void Reopen_AfterDeletesAndAClear_KeepsOnlyWhatIsLive_EvenWhenRevisionsComeBack()
    {
        var engine = New();
        var fill = new KvWriteBatch();
        fill.Puts.AddRange(Enumerable.Range(1, 30).Select(i => Record(i, value: "old")));
        fill.Meta["gone"] = [1];
        engine.Commit(fill);
        var compact = new KvWriteBatch();
        compact.Deletes.AddRange(Enumerable.Range(1, 10).Select(i => new Revision(i, 0)));
        engine.Commit(compact);
        engine = Restart(engine);
        CollectionAssert.AreEqual(Enumerable.Range(11, 20).Select(i => new Revision(i, 0)).ToArray(), Revisions(engine, Revision.Zero));
        var more = new KvWriteBatch();
        more.Puts.AddRange(Enumerable.Range(31, 100).Select(i => Record(i)));
        engine.Commit(more);
        CollectionAssert.AreEqual(Enumerable.Range(11, 120).Select(i => new Revision(i, 0)).ToArray(), Revisions(engine, Revision.Zero));

        // Installing a snapshot: everything goes, then some of the same revisions come back with other content.
        var install = new KvWriteBatch { ClearFirst = true };
        install.Puts.AddRange([Record(5, value: "new"), Record(12, value: "new"), Record(40, value: "new")]);
        install.Meta["kept"] = [2];
        engine.Commit(install);
        engine = Restart(engine);
        var survivors = engine.ScanRecords(Revision.Zero).ToArray();
        CollectionAssert.AreEqual(new[] { new Revision(5, 0), new Revision(12, 0), new Revision(40, 0) }, survivors.Select(r => r.Revision).ToArray());
        Assert.IsTrue(survivors.All(r => StoreDriver.S(r.Kv.Value) == "new"));
        Assert.IsNull(engine.GetMeta("gone"));
        CollectionAssert.AreEqual(new byte[] { 2 }, engine.GetMeta("kept"));

        // Twice in a row without a restart: revisions written a moment ago are replaced by themselves.
        var again = new KvWriteBatch { ClearFirst = true };
        again.Puts.AddRange([Record(12, value: "newer"), Record(41, value: "newer")]);
        engine.Commit(again);
        var replaced = new KvWriteBatch { ClearFirst = true };
        replaced.Puts.AddRange([Record(12, value: "newest"), Record(41, value: "newest")]);
        engine.Commit(replaced);
        var expected = new[] { Record(12, value: "newest"), Record(41, value: "newest") };
        CollectionAssert.AreEqual(expected, engine.ScanRecords(Revision.Zero).ToArray());
        CollectionAssert.AreEqual(expected, Restart(engine).ScanRecords(Revision.Zero).ToArray());
    }

    [TestMethod]
    public void Checkpoint_WithNothingCommitted_KeepsAnEmptyEngineEmpty()
    {
        var engine = New();
        engine.Checkpoint();
        engine = Restart(engine);
        Assert.AreEqual(0, engine.ScanRecords(Revision.Zero).Count());
        Assert.AreEqual(0, engine.ScanMeta("").Count());
        Assert.IsNull(engine.GetRecord(new Revision(1, 0)));
    }
}
