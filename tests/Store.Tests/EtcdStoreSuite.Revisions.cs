namespace CurpStore.Store.Tests;

/// <summary>Global revision, per-key create/mod/version, tombstones, put and delete options, request checks.</summary>
public abstract partial class EtcdStoreSuite
{
    [TestMethod]
    public void EmptyStore_IsAtRevisionOne()
    {
        var store = NewStore();
        Assert.AreEqual(1, store.Machine.Revision);
        var answer = store.Get("a");
        Assert.AreEqual(1, answer.Header.Revision);
        Assert.AreEqual(0, answer.Count);
    }

    [TestMethod]
    public void FirstPut_GetsRevisionTwo_AndVersionOne()
    {
        var store = NewStore();
        Assert.AreEqual(2, store.Put("a", "1").Header.Revision);
        var kv = store.GetKv("a")!;
        Assert.AreEqual((2L, 2L, 1L), (kv.CreateRevision, kv.ModRevision, kv.Version));
        CollectionAssert.AreEqual(B("1"), kv.Value);
    }

    [TestMethod]
    public void Overwrite_KeepsCreateRevision_BumpsModRevisionAndVersion_EvenForTheSameValue()
    {
        var store = NewStore();
        store.Put("a", "1");
        Assert.AreEqual(3, store.Put("a", "1").Header.Revision);
        var kv = store.GetKv("a")!;
        Assert.AreEqual((2L, 3L, 2L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [TestMethod]
    public void DeleteOfMissingKey_ChangesNothing_AndAnswersTheCurrentRevision()
    {
        var store = NewStore();
        store.Put("a", "1");
        var answer = store.Delete("zzz");
        Assert.AreEqual(0, answer.Deleted);
        Assert.AreEqual(2, answer.Header.Revision);
        Assert.AreEqual(2, store.Machine.Revision);
        Assert.AreEqual(0, store.Machine.LastAppliedEvents.Count);
    }

    [TestMethod]
    public void DeleteThenPut_StartsANewGeneration_WithVersionOne()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("a", "2");
        Assert.AreEqual(4, store.Delete("a").Header.Revision);
        Assert.AreEqual(5, store.Put("a", "3").Header.Revision);
        var kv = store.GetKv("a")!;
        Assert.AreEqual((5L, 5L, 1L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [TestMethod]
    public void Tombstone_HidesTheKeyFromItsRevisionOn_ButPastReadsStillSeeIt()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Delete("a");
        Assert.IsNull(store.GetKv("a"));
        Assert.IsNull(store.GetKv("a", revision: 4));
        var past = store.GetKv("a", revision: 3)!;
        Assert.AreEqual((2L, 3L, 2L, "2"), (past.CreateRevision, past.ModRevision, past.Version, StoreDriver.S(past.Value)));
        Assert.AreEqual(1, store.GetKv("a", revision: 2)!.Version);
        Assert.IsNull(store.GetKv("a", revision: 1));
        Assert.AreEqual(4, store.Get("a", revision: 2).Header.Revision, "the header shows the current revision, not the read one");
    }

    [TestMethod]
    public void DeleteRange_DeletesEveryKeyInOneRevision_WithIncreasingSubRevisions()
    {
        var store = NewStore();
        store.Put("k1", "1");
        store.Put("k2", "2");
        store.Put("k3", "3");
        store.Put("l", "x");
        var answer = store.Ok<DeleteRangeResponse>(new DeleteRangeRequest { Key = B("k"), RangeEnd = B("l"), PrevKv = true });
        Assert.AreEqual(3, answer.Deleted);
        Assert.AreEqual(6, answer.Header.Revision);
        CollectionAssert.AreEqual(new[] { "k1", "k2", "k3" }, Keys(answer.PrevKvs));
        var events = store.Machine.LastAppliedEvents;
        CollectionAssert.AreEqual(new[] { "k1", "k2", "k3" }, events.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
        Assert.IsTrue(events.All(e => e.Type == WatchEventType.Delete && e.Kv.ModRevision == 6));
        Assert.AreEqual(1, store.Range(new RangeRequest { Key = B("a"), RangeEnd = [0] }).Count);
    }

    [TestMethod]
    public void FailedRequest_DoesNotBumpTheRevision()
    {
        var store = NewStore();
        store.Put("a", "1");
        var error = store.Fail(new PutRequest { Key = B("b"), Value = B("v"), Lease = 999 });
        Assert.AreSame(EtcdError.LeaseNotFound, error);
        Assert.AreEqual(2, store.Machine.Revision);
        Assert.IsNull(store.GetKv("b"));
    }

    [TestMethod]
    public void PutWithPrevKv_ReturnsThePreviousVersion_OrNothingForANewKey()
    {
        var store = NewStore();
        Assert.IsNull(store.Ok<PutResponse>(new PutRequest { Key = B("a"), Value = B("1"), PrevKv = true }).PrevKv);
        var previous = store.Ok<PutResponse>(new PutRequest { Key = B("a"), Value = B("2"), PrevKv = true }).PrevKv!;
        Assert.AreEqual(("1", 2L, 1L), (StoreDriver.S(previous.Value), previous.ModRevision, previous.Version));
        Assert.IsNull(store.Put("b", "x").PrevKv, "prev_kv only when asked");
    }

    [TestMethod]
    public void PutIgnoreValue_KeepsTheValue_AndIgnoreLease_KeepsTheLease()
    {
        var store = NewStore();
        var lease = store.Grant(100, id: 7);
        var other = store.Grant(100, id: 8);
        store.Put("a", "v", lease);
        store.Ok<PutResponse>(new PutRequest { Key = B("a"), IgnoreValue = true, Lease = other });
        var kv = store.GetKv("a")!;
        Assert.AreEqual(("v", other, 2L), (StoreDriver.S(kv.Value), kv.Lease, kv.Version));
        store.Ok<PutResponse>(new PutRequest { Key = B("a"), Value = B("w"), IgnoreLease = true });
        kv = store.GetKv("a")!;
        Assert.AreEqual(("w", other), (StoreDriver.S(kv.Value), kv.Lease));
    }

    [TestMethod]
    public void PutIgnoreValue_OnAMissingKey_FailsWithKeyNotFound()
    {
        // Checked against etcd: {"error":"etcdserver: key not found","code":3}.
        var store = NewStore();
        var error = store.Fail(new PutRequest { Key = B("nokey"), IgnoreValue = true });
        Assert.AreEqual((EtcdErrorKind.KeyNotFound, GrpcStatusCode.InvalidArgument, "etcdserver: key not found"), (error.Kind, error.Code, error.Message));
        Assert.AreSame(EtcdError.KeyNotFound, store.Fail(new PutRequest { Key = B("nokey"), IgnoreLease = true }));
    }

    [TestMethod]
    public void PutIgnoreValueWithAValue_AndIgnoreLeaseWithALease_AreRejected()
    {
        var store = NewStore();
        store.Put("a", "1");
        var value = store.Fail(new PutRequest { Key = B("a"), Value = B("x"), IgnoreValue = true });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: value is provided"), (value.Code, value.Message));
        var lease = store.Fail(new PutRequest { Key = B("a"), Lease = 5, IgnoreLease = true });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: lease is provided"), (lease.Code, lease.Message));
    }

    [TestMethod]
    public void StandalonePut_ChecksTheLeaseBeforeTheIgnoredKey()
    {
        var store = NewStore();
        Assert.AreSame(EtcdError.LeaseNotFound, store.Fail(new PutRequest { Key = B("nokey"), IgnoreValue = true, Lease = 42 }));
    }

    [TestMethod]
    public void EveryRequestNeedsAKey()
    {
        var store = NewStore();
        EtcdError[] errors =
        [
            store.Fail(new PutRequest { Value = B("v") }),
            store.Fail(new DeleteRangeRequest { RangeEnd = B("z") }),
            store.Fail(new TxnRequest { Compare = [new Compare { Target = CompareTarget.Value, Value = B("1") }] }),
            store.RangeFails(new RangeRequest { RangeEnd = B("z") }),
            store.Fail(new TxnRequest { Success = [new PutRequest { Value = B("v") }] }),
        ];
        foreach (var error in errors)
        {
            Assert.AreEqual((EtcdErrorKind.EmptyKey, GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided"), (error.Kind, error.Code, error.Message));
        }
        Assert.AreEqual(1, store.Machine.Revision);
    }
}
