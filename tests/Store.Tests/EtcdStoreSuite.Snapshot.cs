namespace CurpStore.Store.Tests;

/// <summary>Snapshots (take, install, immutability) and restarts (index and leases rebuilt from the engine).</summary>
public abstract partial class EtcdStoreSuite
{
    /// <summary>A store with every kind of history: overwrites, deletes, a txn, a lease with keys, a compaction at a
    /// tombstone.</summary>
    private StoreDriver HistoryFixture()
    {
        var store = NewStore();
        var lease = store.Grant(100, id: 11);
        store.Put("a", "1"); // 2
        store.Put("a", "2", lease); // 3
        store.Put("b", "1"); // 4
        store.Delete("b"); // 5
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 5 });
        store.Ok<TxnResponse>(new TxnRequest { Success = [new PutRequest { Key = B("c"), Value = B("1"), Lease = lease }, new PutRequest { Key = B("b"), Value = B("2") }] }); // 6
        store.Put("a", "3"); // 7
        return store;
    }

    private static List<string> Observe(StoreDriver store)
    {
        var machine = store.Machine;
        var observed = new List<string>
        {
            $"rev={machine.Revision} compacted={machine.CompactedRevision} applied={machine.AppliedIndex}",
            string.Join(',', machine.Leases(0).Leases),
            string.Join(',', machine.LeaseTimeToLive(11, includeKeys: true, nowMs: 0).Keys.Select(StoreDriver.S)),
        };
        for (var rev = Math.Max(1, machine.CompactedRevision); rev <= machine.Revision; rev++)
        {
            observed.Add(EtcdResultText.Render(machine.Read(new RangeRequest { Key = [0], RangeEnd = [0], Revision = rev })));
        }
        observed.AddRange(machine.ReadEvents(machine.CompactedRevision, 1000).Events.Select(StoreDriver.Text));
        return observed;
    }

    /// <summary>A snapshot kept in a host's file: counts how often its image is read.</summary>
    private sealed class DeferredImage(ulong index, Curp.IStateSnapshot image) : Curp.IDeferredStateSnapshot
    {
        public int Loads { get; private set; }

        public ulong Index { get; } = index;

        public Curp.IStateSnapshot Load()
        {
            Loads++;
            return image;
        }
    }

    [TestMethod]
    public void DeferredSnapshot_AtTheIndexTheStoreHolds_IsNotRead_AndTheStateStays()
    {
        var store = HistoryFixture();
        var before = Observe(store);
        var deferred = new DeferredImage(store.Machine.AppliedIndex, store.Machine.TakeSnapshot());
        var restarted = Restart(store);
        restarted.Machine.RestoreSnapshot(deferred);
        Assert.AreEqual(0, deferred.Loads, "a restart at the checkpointed snapshot must not read the image");
        CollectionAssert.AreEqual(before, Observe(restarted));
    }

    [TestMethod]
    public void DeferredSnapshot_AtAnotherIndex_IsRead_AndReplacesTheState()
    {
        var source = HistoryFixture();
        var expected = Observe(source);
        var deferred = new DeferredImage(source.Machine.AppliedIndex, source.Machine.TakeSnapshot());
        var other = NewStore();
        other.Put("z", "1");
        other.Machine.RestoreSnapshot(deferred);
        Assert.AreEqual(1, deferred.Loads);
        CollectionAssert.AreEqual(expected, Observe(other));
    }

    [TestMethod]
    public void EmptySnapshot_ResetsTheStoreToRevisionOne()
    {
        var store = HistoryFixture();
        store.Machine.RestoreSnapshot(EtcdSnapshot.Empty);
        Assert.AreEqual((1L, 0UL), (store.Machine.Revision, store.Machine.AppliedIndex));
        Assert.AreEqual(0, store.Range(new RangeRequest { Key = [0], RangeEnd = [0] }).Kvs.Count);
    }

    [TestMethod]
    public void Snapshot_InstalledElsewhere_GivesTheSameStateAndTheSameNextAnswers()
    {
        var source = HistoryFixture();
        var snapshot = source.Machine.TakeSnapshot();
        var target = NewStore();
        target.Put("junk", "x");
        target.Machine.RestoreSnapshot(snapshot);
        target.NextIndex = source.NextIndex;
        CollectionAssert.AreEqual(Observe(source), Observe(target));
        Assert.AreEqual(source.Machine.StateDigest(), target.Machine.StateDigest());
        Assert.IsNull(target.GetKv("junk"));
        var next = new TxnRequest { Success = [new PutRequest { Key = B("a"), Value = B("4"), PrevKv = true }, new DeleteRangeRequest { Key = B("a"), RangeEnd = [0] }] };
        Assert.AreEqual(EtcdResultText.Render(source.Apply(next)), EtcdResultText.Render(target.Apply(next)));
        Assert.AreEqual(EtcdResultText.Render(source.Apply(new LeaseRevokeRequest { Id = 11 })), EtcdResultText.Render(target.Apply(new LeaseRevokeRequest { Id = 11 })));
    }

    [TestMethod]
    public void Snapshot_IsNotChangedByLaterWrites()
    {
        var store = HistoryFixture();
        var snapshot = (EtcdSnapshot)store.Machine.TakeSnapshot();
        var before = Observe(store);
        var records = snapshot.Records.Length;
        Assert.AreEqual(store.Machine.AppliedIndex, snapshot.ConsistentIndex);
        store.Put("later", "x");
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 8 });
        Assert.AreEqual(records, snapshot.Records.Length);
        var restored = NewStore();
        restored.Machine.RestoreSnapshot(snapshot);
        CollectionAssert.AreEqual(before, Observe(restored));
    }

    [TestMethod]
    public void Restart_RebuildsTheKeyIndexAndLeasesFromTheEngine()
    {
        var store = HistoryFixture();
        var before = Observe(store);
        var digest = store.Machine.StateDigest();
        var nextIndex = store.NextIndex;
        var restarted = Restart(store); // a persistent engine closes here: the old store is gone
        CollectionAssert.AreEqual(before, Observe(restarted));
        Assert.AreEqual(digest, restarted.Machine.StateDigest());
        Assert.AreEqual(nextIndex, restarted.NextIndex);
    }

    [TestMethod]
    public void Restart_AfterCompactingAtATombstone_StillKnowsTheKeyWasDeleted()
    {
        // The case of etcd PR 19188: the tombstone is the key's only record left.
        var store = NewStore();
        store.Put("a", "1"); // 2
        store.Delete("a"); // 3
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 3 });
        var restarted = Restart(store);
        Assert.IsNull(restarted.GetKv("a"));
        restarted.Put("a", "2"); // 4
        var kv = restarted.GetKv("a")!;
        Assert.AreEqual((4L, 1L), (kv.CreateRevision, kv.Version));
        restarted.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        CollectionAssert.AreEqual(new[] { new Revision(4, 0) }, StoredRevisions(restarted));
    }

    [TestMethod]
    public void Apply_OfAnAlreadyAppliedIndex_IsRefused()
    {
        var store = NewStore();
        store.Put("a", "1");
        var command = store.Command(new PutRequest { Key = B("a"), Value = B("2") });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => store.Machine.Apply(command, 1));
        Assert.AreEqual(2, store.Machine.Revision);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    public void RandomHistories_ReadTheSame_AfterARestartAndAfterASnapshotInstall(int block) =>
        ForEachSeed(block, 25, RandomHistoryReadsTheSameAfterRestartAndSnapshot);

    private void RandomHistoryReadsTheSameAfterRestartAndSnapshot(int seed)
    {
        var store = NewStore();
        var commands = new RandomCommands(seed);
        for (var i = 0; i < 500; i++)
        {
            store.Apply(commands.Next(store.Machine.Revision));
        }
        var expected = Observe(store);
        var restored = NewStore();
        restored.Machine.RestoreSnapshot(store.Machine.TakeSnapshot());
        CollectionAssert.AreEqual(expected, Observe(restored));
        var restarted = Restart(store);
        CollectionAssert.AreEqual(expected, Observe(restarted));
        var next = commands.Next(restarted.Machine.Revision);
        restored.NextIndex = restarted.NextIndex;
        Assert.AreEqual(EtcdResultText.Render(restarted.Apply(next)), EtcdResultText.Render(restored.Apply(next)));
    }
}
