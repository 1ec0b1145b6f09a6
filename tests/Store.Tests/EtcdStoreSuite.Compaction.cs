namespace CurpStore.Store.Tests;

/// <summary>Compaction: logical (reads below fail) and physical (old versions dropped, the latest version of every
/// live key kept), its revision checks, and what survives for watches.</summary>
public abstract partial class EtcdStoreSuite
{
    private static List<Revision> StoredRevisions(StoreDriver store) => [.. store.Engine.ScanRecords(Revision.Zero).Select(r => r.Revision)];

    [TestMethod]
    public void Compaction_MakesOlderRevisionsUnreadable_ButTheCompactedOneStaysReadable()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Put("b", "1");
        store.Put("a", "3");
        var answer = store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4, Physical = true });
        Assert.AreEqual(5, answer.Header.Revision);
        Assert.AreEqual((5L, 4L), (store.Machine.Revision, store.Machine.CompactedRevision));
        var error = store.RangeFails(new RangeRequest { Key = B("a"), Revision = 3 });
        Assert.AreEqual((EtcdErrorKind.Compacted, GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"), (error.Kind, error.Code, error.Message));
        var atCompacted = store.GetKv("a", revision: 4)!;
        Assert.AreEqual(("2", 2L), (StoreDriver.S(atCompacted.Value), atCompacted.Version));
        Assert.IsNotNull(store.GetKv("b", revision: 4));
        Assert.AreEqual("3", StoreDriver.S(store.GetKv("a")!.Value));
    }

    [TestMethod]
    public void Compaction_AtOrBelowTheLastOne_FailsAsCompacted_AndAboveTheCurrentRevision_AsFuture()
    {
        // Checked against etcd: the same request twice or a lower one answers "compacted", a future one "future".
        var store = NewStore();
        for (var i = 0; i < 4; i++)
        {
            store.Put("a", $"{i}");
        }
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        Assert.AreSame(EtcdError.Compacted, store.Fail(new CompactionRequest { Revision = 4 }));
        Assert.AreSame(EtcdError.Compacted, store.Fail(new CompactionRequest { Revision = 3 }));
        Assert.AreSame(EtcdError.FutureRevision, store.Fail(new CompactionRequest { Revision = 6 }));
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 5 });
        Assert.AreEqual(5, store.Machine.CompactedRevision);
    }

    [TestMethod]
    public void FreshStore_CanCompactAtZeroOnce()
    {
        // Checked against a fresh etcd: compact 0 succeeds (header 1), again fails, compact 1 succeeds, -4 fails.
        var store = NewStore();
        Assert.AreEqual(-1, store.Machine.CompactedRevision);
        Assert.AreEqual(1, store.Ok<CompactionResponse>(new CompactionRequest { Revision = 0 }).Header.Revision);
        Assert.AreSame(EtcdError.Compacted, store.Fail(new CompactionRequest { Revision = 0 }));
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 1 });
        Assert.AreSame(EtcdError.Compacted, store.Fail(new CompactionRequest { Revision = -4 }));
        Assert.AreEqual(1, store.Machine.Revision);
    }

    [TestMethod]
    public void Compaction_DropsOldVersions_AndDeletedKeys_KeepingTheLatestVersionOfEveryLiveKey()
    {
        var store = NewStore();
        store.Put("a", "1"); // 2
        store.Put("a", "2"); // 3
        store.Put("b", "1"); // 4
        store.Put("c", "1"); // 5
        store.Delete("c"); // 6
        store.Put("a", "3"); // 7
        store.Put("d", "1"); // 8
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 7 });
        CollectionAssert.AreEqual(new[] { new Revision(4, 0), new Revision(7, 0), new Revision(8, 0) }, StoredRevisions(store));
        var a = store.GetKv("a", revision: 7)!;
        Assert.AreEqual((2L, 7L, 3L), (a.CreateRevision, a.ModRevision, a.Version));
        CollectionAssert.AreEqual(new[] { "a", "b" }, Keys(store.Range(new RangeRequest { Key = [0], RangeEnd = [0], Revision = 7 }).Kvs));
        CollectionAssert.AreEqual(new[] { "a", "b", "d" }, Keys(store.Range(new RangeRequest { Key = [0], RangeEnd = [0] }).Kvs));
    }

    [TestMethod]
    public void Compaction_KeepsATombstoneAtTheCompactedRevision_UntilTheNextCompaction()
    {
        // etcd 3.5 since PR 18274 (the fix of etcd issue 18089): a watch from the compacted revision must see a delete
        // made at exactly that revision. Debian's etcd 3.4.23 predates the fix and drops it.
        var store = NewStore();
        store.Put("a", "1"); // 2
        store.Delete("a"); // 3
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 3 });
        CollectionAssert.AreEqual(new[] { new Revision(3, 0) }, StoredRevisions(store));
        var events = store.Machine.ReadEvents(3, 10).Events;
        Assert.AreEqual((1, WatchEventType.Delete, 3L), (events.Count, events[0].Type, events[0].Kv.ModRevision));
        store.Put("b", "1"); // 4
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        CollectionAssert.AreEqual(new[] { new Revision(4, 0) }, StoredRevisions(store));
    }

    [TestMethod]
    public void AfterCompaction_VersionsAndCreateRevisionsCarryOn()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Put("a", "3");
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        store.Put("a", "4");
        var kv = store.GetKv("a")!;
        Assert.AreEqual((2L, 5L, 4L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [TestMethod]
    public void Compaction_ChangesNoReadAtOrAboveTheCompactedRevision()
    {
        var store = NewStore();
        for (var i = 0; i < 40; i++)
        {
            var key = $"k{i % 7}";
            if (i % 5 == 4)
            {
                store.Delete(key);
            }
            else
            {
                store.Put(key, $"v{i}");
            }
        }
        const long compactAt = 20;
        var before = Enumerable.Range((int)compactAt, (int)(store.Machine.Revision - compactAt + 1))
            .Select(rev => EtcdResultText.Render(store.Machine.Read(new RangeRequest { Key = [0], RangeEnd = [0], Revision = rev })))
            .ToList();
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = compactAt });
        var after = Enumerable.Range((int)compactAt, (int)(store.Machine.Revision - compactAt + 1))
            .Select(rev => EtcdResultText.Render(store.Machine.Read(new RangeRequest { Key = [0], RangeEnd = [0], Revision = rev })))
            .ToList();
        CollectionAssert.AreEqual(before, after);
        Assert.IsTrue(StoredRevisions(store).Count < 40);
    }

    [TestMethod]
    public void CompactionAtARevisionThatDeletedAndRecreatedAKey_KeepsBothVersions()
    {
        // A from-key delete followed by a put of a key it covered changes the key twice in one revision (etcd allows
        // it, see the txn tests). Compacting at that revision must keep the put, which reads there return.
        var store = NewStore();
        store.Put("k", "old"); // 2
        store.Ok<TxnResponse>(new TxnRequest { Success = [new DeleteRangeRequest { Key = B("a"), RangeEnd = [0] }, new PutRequest { Key = B("k"), Value = B("new") }] }); // 3
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 3 });
        CollectionAssert.AreEqual(new[] { new Revision(3, 0), new Revision(3, 1) }, StoredRevisions(store));
        var kv = store.GetKv("k", revision: 3)!;
        Assert.AreEqual(("new", 3L, 1L), (StoreDriver.S(kv.Value), kv.CreateRevision, kv.Version));
        var restarted = Restart(store);
        Assert.AreEqual("new", StoreDriver.S(restarted.GetKv("k")!.Value));
        restarted.Put("k", "newer");
        Assert.AreEqual(2, restarted.GetKv("k")!.Version);
    }
}
