namespace CurpStore.Store.Tests;

/// <summary>Leases: grant (given or chosen id, minimum and maximum TTL), attach and detach, revoke, and the leader's
/// clock: expiry, keep-alive, time-to-live, listing, promotion and checkpoints.</summary>
public abstract partial class EtcdStoreSuite
{
    [TestMethod]
    public void Grant_WithAnId_AnswersTheIdAndTtl_WithoutChangingTheRevision()
    {
        var store = NewStore();
        store.Put("a", "1");
        var answer = store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 77, TtlSeconds = 10 });
        Assert.AreEqual((77L, 10L, 2L), (answer.Id, answer.TtlSeconds, answer.Header.Revision));
        Assert.AreEqual(2, store.Machine.Revision);
        Assert.AreEqual(0, store.Machine.LastAppliedEvents.Count);
    }

    [TestMethod]
    [DataRow(1L, 2L)]
    [DataRow(-5L, 2L)]
    [DataRow(0L, 2L)]
    [DataRow(3L, 3L)]
    public void Grant_BelowTheMinimumTtl_GetsTheMinimum(long requested, long granted)
    {
        // Checked against etcd with its default 1 s election timeout: TTL 1 and TTL -5 were both granted as 2.
        var store = NewStore();
        Assert.AreEqual(granted, store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 5, TtlSeconds = requested }).TtlSeconds);
    }

    [TestMethod]
    public void MinimumTtl_IsAParameter_DerivedFromTheElectionTimeout()
    {
        Assert.AreEqual(2, EtcdStoreOptions.MinLeaseTtlSecondsFor(1000));
        Assert.AreEqual(8, EtcdStoreOptions.MinLeaseTtlSecondsFor(5000));
        Assert.AreEqual(1, EtcdStoreOptions.MinLeaseTtlSecondsFor(100));
        var store = NewStore(new EtcdStoreOptions { MinLeaseTtlSeconds = 5 });
        Assert.AreEqual(5, store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 1, TtlSeconds = 1 }).TtlSeconds);
    }

    [TestMethod]
    public void Grant_AboveTheMaximumTtl_Fails()
    {
        // Checked against etcd: TTL 9000000001 answers "etcdserver: too large lease TTL" with code 11.
        var store = NewStore();
        var error = store.Fail(new LeaseGrantRequest { Id = 1, TtlSeconds = 9_000_000_001 });
        Assert.AreEqual((EtcdErrorKind.LeaseTtlTooLarge, GrpcStatusCode.OutOfRange, "etcdserver: too large lease TTL"), (error.Kind, error.Code, error.Message));
        Assert.AreEqual(9_000_000_000, store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 1, TtlSeconds = 9_000_000_000 }).TtlSeconds);
        Assert.AreSame(EtcdError.LeaseTtlTooLarge, NewStore(new EtcdStoreOptions { MaxLeaseTtlSeconds = 60 }).Fail(new LeaseGrantRequest { Id = 1, TtlSeconds = 61 }));
    }

    [TestMethod]
    public void Grant_OfAnExistingId_Fails()
    {
        // Checked against etcd: {"error":"etcdserver: lease already exists","code":9}.
        var store = NewStore();
        store.Grant(10, id: 77);
        var error = store.Fail(new LeaseGrantRequest { Id = 77, TtlSeconds = 10 });
        Assert.AreEqual((EtcdErrorKind.LeaseExists, GrpcStatusCode.FailedPrecondition, "etcdserver: lease already exists"), (error.Kind, error.Code, error.Message));
    }

    [TestMethod]
    public void Grant_WithoutAnId_ChoosesAPositiveId_ThatDependsOnlyOnTheLogIndex()
    {
        var first = NewStore();
        var second = NewStore();
        first.Put("filler", "x");
        second.NextIndex = 2;
        var a = first.Grant(10);
        var b = second.Grant(10);
        Assert.AreEqual(a, b);
        Assert.IsTrue(a > 0);
        var c = first.Grant(10);
        Assert.AreNotEqual(a, c);
        Assert.IsTrue(c > 0);
    }

    [TestMethod]
    public void Put_WithAnUnknownLease_FailsNotFound()
    {
        // Checked against etcd: {"error":"etcdserver: requested lease not found","code":5}.
        var store = NewStore();
        var error = store.Fail(new PutRequest { Key = B("lq"), Value = B("1"), Lease = 999 });
        Assert.AreEqual((EtcdErrorKind.LeaseNotFound, GrpcStatusCode.NotFound, "etcdserver: requested lease not found"), (error.Kind, error.Code, error.Message));
    }

    [TestMethod]
    public void Revoke_DeletesTheAttachedKeysInKeyOrder_InOneRevision()
    {
        // Checked against etcd: keys lz then la attached, revoke -> DELETE la, DELETE lz, both at the next revision.
        var store = NewStore();
        var lease = store.Grant(100, id: 9);
        store.Put("lz", "1", lease); // 2
        store.Put("la", "1", lease); // 3
        store.Put("other", "1"); // 4
        var answer = store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = lease });
        Assert.AreEqual(5, answer.Header.Revision);
        var events = store.Machine.LastAppliedEvents;
        CollectionAssert.AreEqual(new[] { "la", "lz" }, events.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
        Assert.IsTrue(events.All(e => e.Type == WatchEventType.Delete && e.Kv.ModRevision == 5 && e.PrevKv!.Lease == lease));
        Assert.IsNull(store.GetKv("la"));
        Assert.IsNotNull(store.GetKv("other"));
        Assert.AreEqual(-1, store.Machine.LeaseTimeToLive(lease, includeKeys: true, nowMs: 0).TtlSeconds);
    }

    [TestMethod]
    public void Revoke_OfAnUnknownLease_FailsNotFound()
    {
        var store = NewStore();
        Assert.AreSame(EtcdError.LeaseNotFound, store.Fail(new LeaseRevokeRequest { Id = 12345 }));
    }

    [TestMethod]
    public void Revoke_OfALeaseWithoutKeys_KeepsTheRevision()
    {
        var store = NewStore();
        store.Put("a", "1");
        var lease = store.Grant(100);
        Assert.AreEqual(2, store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = lease }).Header.Revision);
        Assert.AreEqual(2, store.Machine.Revision);
    }

    [TestMethod]
    public void Put_WithAnotherLease_MovesTheKey_AndWithoutALease_DetachesIt()
    {
        var store = NewStore();
        var first = store.Grant(100, id: 1);
        var second = store.Grant(100, id: 2);
        store.Put("moved", "1", first);
        store.Put("moved", "2", second);
        store.Put("freed", "1", first);
        store.Put("freed", "2");
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = first });
        Assert.IsNotNull(store.GetKv("moved"));
        Assert.IsNotNull(store.GetKv("freed"));
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = second });
        Assert.IsNull(store.GetKv("moved"));
    }

    [TestMethod]
    public void Delete_DetachesTheKey()
    {
        var store = NewStore();
        var lease = store.Grant(100, id: 1);
        store.Put("k", "1", lease);
        store.Delete("k");
        store.Put("k", "2");
        var revision = store.Machine.Revision;
        Assert.AreEqual(revision, store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = lease }).Header.Revision);
        Assert.AreEqual("2", StoreDriver.S(store.GetKv("k")!.Value));
    }

    [TestMethod]
    public void TimeToLive_ListsTheAttachedKeysSorted_AndTruncatesTheRemainingSeconds()
    {
        var store = NewStore();
        var lease = store.Grant(100, id: 3);
        store.Put("lz", "1", lease);
        store.Put("la", "1", lease);
        var answer = store.Machine.LeaseTimeToLive(lease, includeKeys: true, nowMs: 0);
        Assert.AreEqual((3L, 100L, 100L), (answer.Id, answer.TtlSeconds, answer.GrantedTtlSeconds));
        CollectionAssert.AreEqual(new[] { "la", "lz" }, answer.Keys.Select(StoreDriver.S).ToArray());
        Assert.AreEqual(98, store.Machine.LeaseTimeToLive(lease, includeKeys: false, nowMs: 1500).TtlSeconds);
        Assert.AreEqual(0, store.Machine.LeaseTimeToLive(lease, includeKeys: false, nowMs: 1500).Keys.Count);
        Assert.AreEqual(-1, store.Machine.LeaseTimeToLive(4, includeKeys: true, nowMs: 0).TtlSeconds);
    }

    [TestMethod]
    public void ExpiredLeases_AreThoseWhoseTimeRanOut_EarliestFirst()
    {
        var store = NewStore();
        var longer = store.Grant(10, id: 1);
        var shorter = store.Grant(5, id: 2);
        Assert.AreEqual(0, store.Machine.ExpiredLeases(0, 10).Count, "the clock starts when the leader first looks");
        Assert.AreEqual(0, store.Machine.ExpiredLeases(4999, 10).Count);
        CollectionAssert.AreEqual(new[] { shorter }, store.Machine.ExpiredLeases(5000, 10).ToArray());
        CollectionAssert.AreEqual(new[] { shorter, longer }, store.Machine.ExpiredLeases(10000, 10).ToArray());
        CollectionAssert.AreEqual(new[] { shorter }, store.Machine.ExpiredLeases(10000, 1).ToArray());
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = shorter });
        CollectionAssert.AreEqual(new[] { longer }, store.Machine.ExpiredLeases(10000, 10).ToArray());
    }

    [TestMethod]
    public void Renew_RestartsTheFullTtl_AndAnswersZeroForUnknownOrExpiredLeases()
    {
        var store = NewStore();
        var lease = store.Grant(10, id: 1);
        store.Machine.ExpiredLeases(0, 10);
        Assert.AreEqual(10, store.Machine.RenewLease(lease, 8000).TtlSeconds);
        Assert.AreEqual(0, store.Machine.ExpiredLeases(17999, 10).Count);
        CollectionAssert.AreEqual(new[] { lease }, store.Machine.ExpiredLeases(18000, 10).ToArray());
        Assert.AreEqual(0, store.Machine.RenewLease(lease, 18001).TtlSeconds);
        Assert.AreEqual(0, store.Machine.RenewLease(42, 0).TtlSeconds);
    }

    [TestMethod]
    public void Leases_AreListedById_WithTheirRemainingTtl()
    {
        var store = NewStore();
        store.Grant(50, id: 5);
        store.Grant(30, id: 3);
        var answer = store.Machine.Leases(nowMs: 0);
        CollectionAssert.AreEqual(new[] { new LeaseStatus(3, 30, 30), new LeaseStatus(5, 50, 50) }, answer.Leases.ToArray());
        CollectionAssert.AreEqual(new[] { 20L, 40L }, store.Machine.Leases(nowMs: 10_000).Leases.Select(l => l.TtlSeconds).ToArray());
    }

    [TestMethod]
    public void Promotion_RestartsClocksFromTheCheckpointedRemainingTtl_PlusTheExtension()
    {
        var store = NewStore();
        var checkpointed = store.Grant(600, id: 1);
        var plain = store.Grant(50, id: 2);
        store.Ok<LeaseCheckpointResponse>(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(checkpointed, 100)] });
        store.Machine.PromoteLeases(nowMs: 0, extendMs: 1000);
        CollectionAssert.AreEqual(new[] { plain }, store.Machine.ExpiredLeases(51_000, 10).ToArray());
        CollectionAssert.AreEqual(new[] { plain }, store.Machine.ExpiredLeases(100_999, 10).ToArray());
        CollectionAssert.AreEqual(new[] { plain, checkpointed }, store.Machine.ExpiredLeases(101_000, 10).ToArray());
    }

    [TestMethod]
    public void Demotion_ForgetsTheClocks()
    {
        var store = NewStore();
        var lease = store.Grant(10, id: 1);
        store.Machine.ExpiredLeases(0, 10);
        store.Machine.DemoteLeases();
        Assert.AreEqual(0, store.Machine.ExpiredLeases(10_000, 10).Count);
        CollectionAssert.AreEqual(new[] { lease }, store.Machine.ExpiredLeases(20_000, 10).ToArray());
    }

    [TestMethod]
    public void Checkpoints_AreDueEveryInterval_ForLeasesThatOutliveIt_AndSurviveARestart()
    {
        var store = NewStore(new EtcdStoreOptions { LeaseCheckpointIntervalMs = 300_000 });
        var longLease = store.Grant(600, id: 1);
        store.Grant(100, id: 2);
        Assert.AreEqual(0, store.Machine.DueLeaseCheckpoints(0, 10).Count);
        var due = store.Machine.DueLeaseCheckpoints(300_000, 10);
        CollectionAssert.AreEqual(new[] { new LeaseCheckpoint(longLease, 300) }, due.ToArray());
        Assert.AreEqual(0, store.Machine.DueLeaseCheckpoints(400_000, 10).Count, "300 s left is not more than one interval");
        Assert.AreEqual(store.Machine.Revision, store.Ok<LeaseCheckpointResponse>(new LeaseCheckpointRequest { Checkpoints = due }).Header.Revision);
        var restarted = Restart(store);
        Assert.AreEqual(300, restarted.Machine.LeaseTimeToLive(longLease, includeKeys: false, nowMs: 0).TtlSeconds);
        Assert.AreEqual(600, restarted.Machine.LeaseTimeToLive(longLease, includeKeys: false, nowMs: 0).GrantedTtlSeconds);
    }

    [TestMethod]
    public void RenewingACheckpointedLease_AsksToClearTheCheckpoint()
    {
        var store = NewStore();
        var lease = store.Grant(600, id: 1);
        store.Ok<LeaseCheckpointResponse>(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(lease, 300)] });
        store.Machine.RenewLease(lease, 1000);
        var due = store.Machine.DueLeaseCheckpoints(1000, 10);
        CollectionAssert.AreEqual(new[] { new LeaseCheckpoint(lease, 0) }, due.ToArray());
        store.Ok<LeaseCheckpointResponse>(new LeaseCheckpointRequest { Checkpoints = due });
        Assert.AreEqual(600, Restart(store).Machine.LeaseTimeToLive(lease, includeKeys: false, nowMs: 0).TtlSeconds);
    }

    [TestMethod]
    public void Checkpoint_OfAnUnknownLease_IsIgnored()
    {
        var store = NewStore();
        store.Put("a", "1");
        Assert.AreEqual(2, store.Ok<LeaseCheckpointResponse>(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(99, 10)] }).Header.Revision);
        Assert.AreEqual(0, store.Machine.Leases(0).Leases.Count);
    }

    [TestMethod]
    public void Leases_AndTheirAttachments_SurviveARestart()
    {
        var store = NewStore();
        var lease = store.Grant(100, id: 4);
        store.Put("k", "1", lease);
        store.Put("j", "1", lease);
        store.Put("j", "2");
        var restarted = Restart(store);
        CollectionAssert.AreEqual(new[] { "k" }, restarted.Machine.LeaseTimeToLive(lease, includeKeys: true, nowMs: 0).Keys.Select(StoreDriver.S).ToArray());
        restarted.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = lease });
        Assert.IsNull(restarted.GetKv("k"));
        Assert.IsNotNull(restarted.GetKv("j"));
    }
}
