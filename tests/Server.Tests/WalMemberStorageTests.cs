using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;
using CurpStore.Server.Storage;
using CurpStore.Wire;

namespace CurpStore.Server.Tests;

[TestClass]
public sealed class WalMemberStorageTests
{
    private static readonly WireCodec Codec = new(new KvCommandCodec());

    private static LogEntry Put(ulong index, ulong term, string key) =>
        new(index, term, new CommandPayload(new KvCommand(new ProposeId(9, index), KvOperation.Put, key, "v" + index), 1_001, 1));

    private static string Describe(PersistentState state) =>
        $"{state.HardState} snap {state.Snapshot?.Index} entries [{string.Join(",", state.Entries.Select(e => $"{e.Index}/{e.Term}"))}] pool [{string.Join(",", state.Pool.Select(p => p.Id))}]";

    /// <summary>Persists puts 1..<paramref name="last"/> (applied to <paramref name="machine"/>) to both storages,
    /// with a snapshot after every <paramref name="snapshotEvery"/> entries when it is above 0.</summary>
    private static void Fill(WalMemberStorage storage, MemoryStorage reference, KvStateMachine machine, ulong last, ulong snapshotEvery = 0)
    {
        for (ulong i = 1; i <= last; i++)
        {
            var entry = Put(i, 1, $"k{i}");
            machine.Apply(((CommandPayload)entry.Payload).Command, i);
            var ready = new Ready { Entries = [entry], HardState = new HardState(1, 1, i) };
            if (snapshotEvery > 0 && i % snapshotEvery == 0)
            {
                storage.Persist(ready);
                reference.Persist(ready);
                ready = new Ready { Snapshot = new Snapshot(i, 1, Membership.Of([1UL]), SessionTableImage.Empty(8), machine.TakeSnapshot()) };
            }
            storage.Persist(ready);
            reference.Persist(ready);
        }
    }

    [TestMethod]
    public void EveryReady_SurvivesAReopen_IncludingAConflictingSuffixAndThePool()
    {
        using var temporary = new TemporaryDirectory();
        var directory = temporary.Path;
        var reference = new MemoryStorage();
        var readies = new List<Ready>
        {
            new() { HardState = new HardState(1, 1, 0), Entries = [Put(1, 1, "a"), Put(2, 1, "b"), Put(3, 1, "c")] },
            new() { PoolAdded = [new PooledCommand(new KvCommand(new ProposeId(5, 1), KvOperation.Put, "p", "q"), 1_002, 1)] },
            // A new leader's entries replace ours from index 2 on.
            new() { HardState = new HardState(2, 0, 1), Entries = [Put(2, 2, "x")] },
            new() { PoolRemoved = [new ProposeId(5, 1)], PoolAdded = [new PooledCommand(new KvCommand(new ProposeId(5, 2), KvOperation.Put, "p", "r"), 1_002, 2)] },
        };
        using (var storage = WalMemberStorage.Open(directory, Codec))
        {
            foreach (var ready in readies)
            {
                storage.Persist(ready);
                reference.Persist(ready);
            }
        }
        using var reopened = WalMemberStorage.Open(directory, Codec);
        Assert.AreEqual(Describe(reference.Load()), Describe(reopened.Load()));
        Assert.AreEqual(2, reopened.Load().Entries.Length);
    }

    /// <summary>etcd's MustSync, plus the witness's promise: a batch with only a new commit index or pool removals is
    /// written without an fsync (both are re-derived after a crash) and made durable by the next fsync.</summary>
    [TestMethod]
    public void OnlyBatchesThatMustSurviveACrash_AreFsynced_AndTheRestRideOnTheNextOne()
    {
        using var temporary = new TemporaryDirectory();
        var directory = temporary.Path;
        var pooled = new PooledCommand(new KvCommand(new ProposeId(5, 1), KvOperation.Put, "p", "q"), 1_002, 1);
        var fsyncs = new List<int>();
        var count = 0;
        var reference = new MemoryStorage();
        using (var storage = WalMemberStorage.Open(directory, Codec, fsyncObserved: _ => Interlocked.Increment(ref count)))
        {
            foreach (var ready in new Ready[]
            {
                new() { HardState = new HardState(1, 1, 0) },                 // a new term and vote: fsync
                new() { PoolAdded = [pooled] },                                // a witness's promise: fsync
                new() { Entries = [Put(1, 1, "a")] },                          // entries: fsync
                new() { HardState = new HardState(1, 1, 1) },                  // the commit index only: none
                new() { PoolRemoved = [pooled.Id] },                           // a removal only: none
                new() { HardState = new HardState(2, 0, 1) },                  // a new term: fsync
            })
            {
                var before = count;
                storage.Persist(ready);
                reference.Persist(ready);
                fsyncs.Add(count - before);
            }
        }
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0, 0, 1 }, fsyncs);
        using var reopened = WalMemberStorage.Open(directory, Codec);
        Assert.AreEqual(Describe(reference.Load()), Describe(reopened.Load()), "the unsynced records were made durable by the later fsync");
    }

    [TestMethod]
    public void ASnapshot_IsRestoredFromItsFile_AndOldRecordsAreCompactedAway()
    {
        using var temporary = new TemporaryDirectory();
        var directory = temporary.Path;
        var machine = new KvStateMachine();
        var reference = new MemoryStorage();
        using (var storage = WalMemberStorage.Open(directory, Codec))
        {
            Fill(storage, reference, machine, 300);
            var snapshot = new Snapshot(250, 1, Membership.Of([1UL, 2UL, 3UL]), SessionTableImage.Empty(8), machine.TakeSnapshot());
            var compaction = new Ready { Snapshot = snapshot };
            storage.Persist(compaction);
            reference.Persist(compaction);
        }
        using var reopened = WalMemberStorage.Open(directory, Codec);
        var state = reopened.Load();
        Assert.AreEqual(Describe(reference.Load()), Describe(state));
        Assert.AreEqual(250UL, state.Snapshot!.Index);
        Assert.AreEqual(251UL, state.Entries[0].Index);
        var restored = new KvStateMachine();
        restored.RestoreSnapshot(state.Snapshot.State);
        Assert.AreEqual("v250", restored.Get("k250")!.Data);
        Assert.AreEqual(1, Directory.GetFiles(Path.Combine(directory, "snap"), "*.snap").Length);
    }

    [TestMethod]
    public void AnImageWrittenBeforeItsSnapshotIsPersisted_IsOnlyRecorded_AndRestoresAfterAReopen()
    {
        using var temporary = new TemporaryDirectory();
        var directory = temporary.Path;
        var machine = new KvStateMachine();
        var reference = new MemoryStorage();
        using (var storage = WalMemberStorage.Open(directory, Codec))
        {
            Fill(storage, reference, machine, 300);
            var file = storage.WriteImage(250, machine.TakeSnapshot());
            var snapshotPath = Path.Combine(directory, "snap", $"{250:x16}.snap");
            Assert.AreEqual(snapshotPath, file.Path);
            var writtenAt = File.GetLastWriteTimeUtc(snapshotPath);
            var lengthBytes = new FileInfo(snapshotPath).Length;
            Assert.AreEqual(lengthBytes, file.LengthBytes);

            // Persisting the snapshot with the file as its image names the file; it does not write it again.
            File.SetLastWriteTimeUtc(snapshotPath, writtenAt.AddHours(-1));
            var snapshot = new Snapshot(250, 1, Membership.Of([1UL, 2UL, 3UL]), SessionTableImage.Empty(8), file);
            storage.Persist(new Ready { Snapshot = snapshot });
            reference.Persist(new Ready { Snapshot = snapshot with { State = machine.TakeSnapshot() } });
            Assert.AreEqual(writtenAt.AddHours(-1), File.GetLastWriteTimeUtc(snapshotPath), "the image file was rewritten");
        }
        using var reopened = WalMemberStorage.Open(directory, Codec);
        var state = reopened.Load();
        Assert.AreEqual(Describe(reference.Load()), Describe(state));
        var image = Assert.IsInstanceOfType<SnapshotFile>(state.Snapshot!.State);
        Assert.AreEqual(250UL, image.Index);
        var restored = new KvStateMachine();
        restored.RestoreSnapshot(image);
        Assert.AreEqual("v300", restored.Get("k300")!.Data, "the image is the state it was written from");
    }

    [TestMethod]
    public void SeveralSnapshotsInOneSegment_ReopenFromTheNewest_ButAMissingNewestIsAnError()
    {
        using var temporary = new TemporaryDirectory();
        var directory = temporary.Path;
        var machine = new KvStateMachine();
        var reference = new MemoryStorage();
        using (var storage = WalMemberStorage.Open(directory, Codec))
        {
            // Each snapshot deletes the older images; their markers stay in the one segment.
            Fill(storage, reference, machine, 30, snapshotEvery: 5);
        }
        using (var reopened = WalMemberStorage.Open(directory, Codec))
        {
            Assert.AreEqual(Describe(reference.Load()), Describe(reopened.Load()));
            Assert.AreEqual(30UL, reopened.Load().Snapshot!.Index);
        }
        // The newest image and the one before it are kept (a message may still be reading the older one).
        var images = Directory.GetFiles(Path.Combine(directory, "snap"), "*.snap").Order(StringComparer.Ordinal).ToArray();
        Assert.AreEqual(2, images.Length, string.Join(", ", images));
        var newest = images[^1];
        File.Delete(newest);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => WalMemberStorage.Open(directory, Codec).Dispose());
        StringAssert.Contains(error.Message, $"snapshot file {newest} is missing");
    }

    /// <summary>A new directory under the temp folder, deleted with everything in it when disposed.</summary>
    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("curpstore-wal-storage").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
