using CurpStore.Store.Faster;

namespace CurpStore.Store.Tests;

/// <summary>The engine contract on <see cref="FasterKvEngine"/>, plus what only a persistent engine has: recovery of
/// the last checkpoint and nothing after it, refusal of damaged directories, records evicted to disk, log
/// compaction.</summary>
[TestClass]
public sealed class FasterKvEngineTests : KvEngineContract
{
    private readonly FasterEngineDirectories directories = new();
    private readonly List<IDisposable> opened = [];

    protected override IKvEngine CreateEngine() => directories.Create();

    protected override IKvEngine Reopen(IKvEngine engine) => FasterEngineDirectories.Reopen(engine);

    protected override void OnEnginesDisposed()
    {
        opened.ForEach(engine => engine.Dispose());
        directories.Delete();
    }

    private FasterKvEngine Open(string directory, FasterKvEngineOptions? options = null)
    {
        var engine = FasterKvEngine.Open(directory, options ?? FasterKvEngineOptions.Small);
        opened.Add(engine);
        return engine;
    }

    private static void CommitIndex(IKvEngine engine, long index, params KvRecord[] records)
    {
        var batch = new KvWriteBatch();
        batch.Puts.AddRange(records);
        batch.Meta[StoreMeta.ConsistentIndex] = StoreMeta.EncodeInt64(index);
        engine.Commit(batch);
    }

    /// <summary>The directory of an engine that committed two records, checkpointed and closed.</summary>
    private string CheckpointedAndClosed()
    {
        var directory = directories.NewDirectory();
        var engine = Open(directory);
        CommitIndex(engine, 1, Record(2), Record(3));
        engine.Checkpoint();
        engine.Dispose();
        return directory;
    }

    private void AssertOpenFailsNaming(string directory)
    {
        var failure = Assert.ThrowsExactly<InvalidDataException>(() => Open(directory));
        StringAssert.Contains(failure.Message, directory);
    }

    [TestMethod]
    public void Reopen_WithoutACheckpoint_ComesBackExactlyAtTheLastCheckpoint()
    {
        var directory = directories.NewDirectory();
        var engine = Open(directory);
        CommitIndex(engine, 1, Record(2, value: "a"), Record(3, value: "b"));
        engine.Checkpoint();
        Assert.AreEqual(1UL, engine.CheckpointedConsistentIndex);
        CommitIndex(engine, 2, Record(4, value: "after"));
        var compact = new KvWriteBatch();
        compact.Deletes.Add(new Revision(2, 0));
        compact.Meta["lease/9"] = [9];
        engine.Commit(compact);
        engine.Dispose(); // no checkpoint: the log after index 1 is what a restart replays

        var reopened = Open(directory);
        CollectionAssert.AreEqual(new[] { Record(2, value: "a"), Record(3, value: "b") }, reopened.ScanRecords(Revision.Zero).ToArray());
        Assert.AreEqual(1L, StoreMeta.DecodeInt64(reopened.GetMeta(StoreMeta.ConsistentIndex)));
        Assert.AreEqual(1UL, reopened.CheckpointedConsistentIndex);
        Assert.IsNull(reopened.GetMeta("lease/9"));
        Assert.IsNull(reopened.GetRecord(new Revision(4, 0)));
    }

    [TestMethod]
    public void StateMachine_RestartedOnACheckpoint_ReplaysTheRestOfTheLogToTheSameState()
    {
        var directory = directories.NewDirectory();
        var store = new StoreDriver(Open(directory));
        store.Put("a", "1");
        store.Put("b", "2");
        store.Engine.Checkpoint();
        var checkpointed = store.Machine.AppliedIndex;
        var lateCommands = new[] { store.Command(new PutRequest { Key = StoreDriver.B("a"), Value = StoreDriver.B("3") }) };
        store.Machine.Apply(lateCommands[0], store.NextIndex++);
        var expected = store.Get("a").Kvs.Single();
        store.Engine.Dispose();

        var restarted = new StoreDriver(Open(directory));
        Assert.AreEqual(checkpointed, restarted.Machine.AppliedIndex);
        Assert.AreEqual("1", StoreDriver.S(restarted.GetKv("a")!.Value));
        restarted.Machine.Apply(lateCommands[0], checkpointed + 1); // the log tail after the checkpoint's index
        Assert.AreEqual(expected, restarted.GetKv("a"));
        Assert.AreEqual(4, restarted.Machine.Revision);
    }

    [TestMethod]
    public void RecordsEvictedToDisk_AreReadBack_InOrder_BeforeAndAfterARestart()
    {
        var engine = (FasterKvEngine)CreateEngine();
        opened.Add(engine);
        var value = new string('x', 300);
        const int Count = 40_000; // about 14 MB of records for an 8 MB log memory
        for (var first = 1; first <= Count; first += 1000)
        {
            var batch = new KvWriteBatch();
            batch.Puts.AddRange(Enumerable.Range(first, 1000).Select(i => Record(i, value: value + i)));
            engine.Commit(batch);
        }
        Assert.AreEqual(Record(17, value: value + 17), engine.GetRecord(new Revision(17, 0)));
        AssertScanFrom5(engine);
        Assert.IsGreaterThan(Count / 4, engine.RecordsReadByLogPass, "evicted records are read by one pass over the log");
        var reopened = FasterEngineDirectories.Reopen(engine);
        opened.Add(reopened);
        AssertScanFrom5(reopened);
        Assert.IsGreaterThan(Count / 4, reopened.RecordsReadByLogPass, "after a restart too");
        Assert.AreEqual(Record(3, value: value + 3), reopened.GetRecord(new Revision(3, 0)));
        Assert.AreEqual(Count, reopened.RecordCount);

        void AssertScanFrom5(IKvEngine candidate)
        {
            var expected = 5;
            foreach (var record in candidate.ScanRecords(new Revision(5, 0)))
            {
                Assert.AreEqual(new Revision(expected, 0), record.Revision);
                Assert.AreEqual(value + expected, StoreDriver.S(record.Kv.Value));
                expected++;
            }
            Assert.AreEqual(Count + 1, expected);
        }
    }

    [TestMethod]
    public void LogCompaction_GivesSpaceBack_AndKeepsEveryLiveRecord()
    {
        var engine = (FasterKvEngine)CreateEngine();
        var value = new string('y', 400);
        for (var first = 1; first <= 30_000; first += 1000)
        {
            var batch = new KvWriteBatch();
            batch.Puts.AddRange(Enumerable.Range(first, 1000).Select(i => Record(i, value: value)));
            engine.Commit(batch);
        }
        engine.Checkpoint();
        var before = engine.LogSizeBytes;
        var compact = new KvWriteBatch();
        compact.Deletes.AddRange(Enumerable.Range(1, 29_000).Select(i => new Revision(i, 0)));
        engine.Commit(compact);
        var filesBefore = LogFileBytes(engine);
        engine.Checkpoint(); // dead records now outnumber live ones: this checkpoint compacts first
        Assert.IsLessThan(before / 4, engine.LogSizeBytes, "compaction should leave about a thirtieth of the log");
        // FASTER may be deleting them on a background task at the same time: wait (bounded) rather than race it.
        Assert.IsTrue(SpinWait.SpinUntil(() => LogFileBytes(engine) < filesBefore / 2, TimeSpan.FromSeconds(30)),
            $"the log files below the new begin address should be deleted: {LogFileBytes(engine)} of {filesBefore} bytes left");
        var expected = Enumerable.Range(29_001, 1000).Select(i => Record(i, value: value)).ToArray();
        CollectionAssert.AreEqual(expected, engine.ScanRecords(Revision.Zero).ToArray(), "before a restart: addresses moved by compaction");
        var reopened = FasterEngineDirectories.Reopen(engine);
        opened.Add(reopened);
        CollectionAssert.AreEqual(Enumerable.Range(29_001, 1000).Select(i => new Revision(i, 0)).ToArray(),
            reopened.ScanRecords(Revision.Zero).Select(r => r.Revision).ToArray());
        Assert.AreEqual(Record(29_500, value: value), reopened.GetRecord(new Revision(29_500, 0)));
        Assert.IsNull(reopened.GetRecord(new Revision(100, 0)));
    }

    private static long LogFileBytes(FasterKvEngine engine) =>
        new DirectoryInfo(Path.Combine(engine.Directory, "log")).GetFiles().Sum(file => file.Length);

    [TestMethod]
    public void ARecordLargerThanAPage_IsRefused_AndNothingOfItsBatchIsApplied()
    {
        var engine = (FasterKvEngine)CreateEngine();
        var batch = new KvWriteBatch();
        batch.Puts.Add(Record(1, value: "fits"));
        batch.Puts.Add(Record(2, value: new string('z', (int)FasterKvEngineOptions.Small.PageSizeBytes)));
        batch.Meta["m"] = [1];
        var refused = Assert.ThrowsExactly<ArgumentException>(() => engine.Commit(batch));
        StringAssert.Contains(refused.Message, "revision 2.0");
        Assert.AreEqual(0, engine.RecordCount);
        Assert.IsNull(engine.GetMeta("m"));
        CommitIndex(engine, 1, Record(1, value: "still works"));
        Assert.AreEqual(1, engine.RecordCount);
    }

    [TestMethod]
    public void Open_WithTheCheckpointsGone_FailsNamingTheDirectory()
    {
        var directory = CheckpointedAndClosed();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Path.Combine(directory, "checkpoints")))
        {
            Directory.Delete(entry, recursive: true);
        }
        AssertOpenFailsNaming(directory);
    }

    [TestMethod]
    public void Open_WithADamagedCheckpoint_FailsNamingTheDirectory()
    {
        var directory = CheckpointedAndClosed();
        var metadata = Directory.GetFiles(Path.Combine(directory, "checkpoints", "cpr-checkpoints"), "info.dat*", SearchOption.AllDirectories);
        Assert.HasCount(1, metadata, "the log checkpoint's metadata");
        // A 4-byte length, then FASTER's fields as text and the store meta as base64: damage the second half, the meta.
        var bytes = File.ReadAllBytes(metadata[0]);
        var lengthBytes = BitConverter.ToInt32(bytes);
        bytes[4 + (lengthBytes * 3 / 4)] ^= 0x01; // one bit: still base64, so only a checksum can notice
        File.WriteAllBytes(metadata[0], bytes);
        AssertOpenFailsNaming(directory);
    }

    [TestMethod]
    public void CheckpointMeta_RoundTrips_AndRejectsAnyFlippedBit()
    {
        var meta = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { ["consistent_index"] = [1, 2], ["lease/ä"] = [] };
        var encoded = new CheckpointMeta(meta, 42).Encode();
        var decoded = CheckpointMeta.Decode(encoded);
        Assert.AreEqual(42, decoded.LiveRecordCount);
        CollectionAssert.AreEqual(meta.Keys, decoded.Meta.Keys);
        CollectionAssert.AreEqual(new byte[] { 1, 2 }, decoded.Meta["consistent_index"]);
        for (var bit = 0; bit < encoded.Length * 8; bit++)
        {
            var damaged = (byte[])encoded.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.ThrowsExactly<InvalidDataException>(() => CheckpointMeta.Decode(damaged), $"bit {bit}");
        }
        Assert.ThrowsExactly<InvalidDataException>(() => CheckpointMeta.Decode(null));
        Assert.ThrowsExactly<InvalidDataException>(() => CheckpointMeta.Decode(encoded[..^1]));
    }

    [TestMethod]
    public void Open_WithTheLogGone_FailsNamingTheDirectory()
    {
        var directory = CheckpointedAndClosed();
        foreach (var segment in Directory.GetFiles(Path.Combine(directory, "log")))
        {
            File.Delete(segment);
        }
        AssertOpenFailsNaming(directory);
    }

    [TestMethod]
    public void Open_RefusesADirectoryHoldingSomethingElse()
    {
        var directory = directories.NewDirectory();
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "notes.txt"), "not an engine");
        var failure = Assert.ThrowsExactly<InvalidDataException>(() => Open(directory));
        StringAssert.Contains(failure.Message, "notes.txt");
        Assert.IsTrue(File.Exists(Path.Combine(directory, "notes.txt")));
    }

    [TestMethod]
    public void Options_ThatFasterWouldReject_AreRefusedUpFront()
    {
        var failure = Assert.ThrowsExactly<ArgumentException>(() => FasterKvEngine.Open(directories.NewDirectory(), FasterKvEngineOptions.Small with { PageSizeBytes = 3000 }));
        StringAssert.Contains(failure.Message, nameof(FasterKvEngineOptions.PageSizeBytes));
        Assert.ThrowsExactly<ArgumentException>(() => FasterKvEngine.Open(directories.NewDirectory(), FasterKvEngineOptions.Small with { LogMemorySizeBytes = 2L << 20 }));
    }
}
