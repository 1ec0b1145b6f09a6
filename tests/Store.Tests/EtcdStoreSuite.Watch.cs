namespace CurpStore.Store.Tests;

/// <summary>Watch event production: the events of each applied command and the history a watch from the past reads.</summary>
public abstract partial class EtcdStoreSuite
{
    [TestMethod]
    public void PutEvent_CarriesThePreviousVersion_ExceptWhenItCreatesTheKey()
    {
        var store = NewStore();
        store.Put("a", "1");
        var created = store.Machine.LastAppliedEvents.Single();
        Assert.AreEqual((WatchEventType.Put, 2L, 2L, 1L), (created.Type, created.Kv.CreateRevision, created.Kv.ModRevision, created.Kv.Version));
        Assert.IsNull(created.PrevKv);
        store.Put("a", "2");
        var updated = store.Machine.LastAppliedEvents.Single();
        Assert.AreEqual(("2", "1", 2L), (StoreDriver.S(updated.Kv.Value), StoreDriver.S(updated.PrevKv!.Value), updated.PrevKv.ModRevision));
    }

    [TestMethod]
    public void DeleteEvent_HoldsOnlyTheKeyAndItsRevision_WithThePreviousVersion()
    {
        // Checked against etcd: a delete event's kv has only key and mod_revision.
        var store = NewStore();
        var lease = store.Grant(100, id: 1);
        store.Put("a", "1", lease);
        store.Delete("a");
        var deleted = store.Machine.LastAppliedEvents.Single();
        Assert.AreEqual(WatchEventType.Delete, deleted.Type);
        Assert.AreEqual(new KeyValue { Key = B("a"), ModRevision = 3 }, deleted.Kv);
        Assert.AreEqual(new KeyValue { Key = B("a"), Value = B("1"), CreateRevision = 2, ModRevision = 2, Version = 1, Lease = lease }, deleted.PrevKv);
    }

    [TestMethod]
    public void CommandsThatChangeNothing_ProduceNoEvents()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Fail(new PutRequest { Key = B("b"), Lease = 5 });
        Assert.AreEqual(0, store.Machine.LastAppliedEvents.Count);
        store.Put("a", "2");
        store.Delete("missing");
        Assert.AreEqual(0, store.Machine.LastAppliedEvents.Count);
        store.Grant(10);
        Assert.AreEqual(0, store.Machine.LastAppliedEvents.Count);
    }

    [TestMethod]
    public void ReadEvents_ReplaysTheHistoryInRevisionOrder_WithPrevKv()
    {
        var store = NewStore();
        store.Put("a", "1"); // 2
        store.Put("b", "1"); // 3
        store.Ok<TxnResponse>(new TxnRequest { Success = [new PutRequest { Key = B("a"), Value = B("2") }, new DeleteRangeRequest { Key = B("b") }] }); // 4
        store.Put("c", "1"); // 5
        var history = store.Machine.ReadEvents(3, 100);
        var summary = history.Events.Select(e => $"{e.Type} {StoreDriver.S(e.Kv.Key)}@{e.Kv.ModRevision} prev={(e.PrevKv is null ? "-" : StoreDriver.S(e.PrevKv.Value))}");
        CollectionAssert.AreEqual(new[] { "Put b@3 prev=-", "Put a@4 prev=1", "Delete b@4 prev=1", "Put c@5 prev=-" }, summary.ToArray());
        Assert.AreEqual((6L, 0L), (history.NextRevision, history.CompactRevision));
        Assert.IsTrue(store.Machine.ReadEvents(3, 100, includePrevKv: false).Events.All(e => e.PrevKv is null));
    }

    [TestMethod]
    public void ReadEvents_BelowTheCompactedRevision_ReportsIt_AndFromItWorks()
    {
        var store = NewStore();
        for (var i = 0; i < 4; i++)
        {
            store.Put("a", $"{i}");
        }
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        var compacted = store.Machine.ReadEvents(3, 10);
        Assert.AreEqual((0, 4L), (compacted.Events.Count, compacted.CompactRevision));
        var fromCompacted = store.Machine.ReadEvents(4, 10);
        CollectionAssert.AreEqual(new[] { 4L, 5L }, fromCompacted.Events.Select(e => e.Kv.ModRevision).ToArray());
        Assert.IsNull(fromCompacted.Events[0].PrevKv, "its previous version was compacted away");
        Assert.AreEqual("2", StoreDriver.S(fromCompacted.Events[1].PrevKv!.Value));
    }

    [TestMethod]
    public void ReadEvents_NeverSplitsARevision()
    {
        var store = NewStore();
        store.Put("x", "1"); // 2
        store.Ok<TxnResponse>(new TxnRequest { Success = [new PutRequest { Key = B("p"), Value = B("1") }, new PutRequest { Key = B("q"), Value = B("1") }, new PutRequest { Key = B("r"), Value = B("1") }] }); // 3
        store.Put("y", "1"); // 4
        var first = store.Machine.ReadEvents(2, 2);
        CollectionAssert.AreEqual(new[] { "x", "p", "q", "r" }, first.Events.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
        Assert.AreEqual(4, first.NextRevision);
        var second = store.Machine.ReadEvents(first.NextRevision, 2);
        CollectionAssert.AreEqual(new[] { "y" }, second.Events.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
        Assert.AreEqual(5, second.NextRevision);
    }

    [TestMethod]
    public void ReadEvents_FromNowOrTheFuture_ReturnsNothingYet()
    {
        var store = NewStore();
        store.Put("a", "1");
        var now = store.Machine.ReadEvents(0, 10);
        Assert.AreEqual((0, 3L), (now.Events.Count, now.NextRevision));
        var future = store.Machine.ReadEvents(9, 10);
        Assert.AreEqual((0, 9L), (future.Events.Count, future.NextRevision));
    }
}
