using static CurpStore.Wal.Tests.WalTestKit;

namespace CurpStore.Wal.Tests;

[TestClass]
public sealed class TruncationTests
{
    private static readonly WalOptions SmallSegments = new() { SegmentSizeBytes = 1024 };

    [TestMethod]
    public void TruncateSuffix_InTheMiddleOfASegment_SurvivesReopen_AndAppendsContinueFromTheCut()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 100, 120, seed: 21);
        var replacement = Records(40, 11, 120, seed: 22, tag: "new");
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            wal.AppendBatch(records);
            wal.Sync();
            wal.TruncateSuffix(40);
            Assert.AreEqual(39, wal.LastIndex);
            AssertSameRecords(records.Take(39).ToList(), [.. wal.ReadFrom(0)]);
            foreach (var segment in dir.Segments())
            {
                Assert.IsLessThan(40L, Convert.ToInt64(Path.GetFileName(segment)[4..20], 16), "segments wholly above the cut are deleted");
            }
            wal.AppendBatch(replacement);
            wal.Sync();
        }
        using var reopened = WriteAheadLog.Open(dir.Path, SmallSegments);
        Assert.AreEqual(0L, reopened.Recovery.DroppedTailBytes);
        Assert.AreEqual(50, reopened.LastIndex);
        AssertSameRecords([.. records.Take(39), .. replacement], [.. reopened.ReadFrom(0)]);
    }

    [TestMethod]
    public void TruncateSuffix_AtTheFirstIndexOfASegment_DeletesThatSegment()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 100, 120, seed: 23);
        WriteAndClose(dir.Path, records, SmallSegments);
        var segments = dir.Segments();
        var boundary = Convert.ToInt64(Path.GetFileName(segments[3])[4..20], 16);
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            wal.TruncateSuffix(boundary);
            Assert.AreEqual(boundary - 1, wal.LastIndex);
        }
        CollectionAssert.AreEqual(segments.Take(3).ToArray(), dir.Segments());
        AssertSameRecords(records.Take((int)boundary - 1).ToList(), ReadAll(dir.Path, SmallSegments));
    }

    [TestMethod]
    public async Task TruncateSuffix_OfEverything_LeavesAnEmptyLogThatStartsAgain()
    {
        using var dir = new TestDirectory();
        WriteAndClose(dir.Path, Records(5, 50, 120, seed: 24), SmallSegments);
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            wal.TruncateSuffix(0);
            Assert.AreEqual(-1, wal.LastIndex);
            Assert.AreEqual(-1, wal.FirstIndex);
            Assert.IsEmpty(dir.Segments());
            Assert.AreEqual(1, await wal.AppendAsync(EntryType, new byte[] { 42 }));
        }
        var read = ReadAll(dir.Path, SmallSegments);
        Assert.HasCount(1, read);
        Assert.AreEqual(1, read[0].Index);
    }

    [TestMethod]
    public void TruncateSuffix_AboveTheLastIndex_ChangesNothing()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 30, 120, seed: 25);
        WriteAndClose(dir.Path, records, SmallSegments);
        var before = dir.Segments().Select(File.ReadAllBytes).ToList();
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            wal.TruncateSuffix(31);
            Assert.AreEqual(30, wal.LastIndex);
        }
        var after = dir.Segments().Select(File.ReadAllBytes).ToList();
        Assert.HasCount(before.Count, after);
        Assert.IsTrue(before.Zip(after).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second)));
    }

    [TestMethod]
    public async Task TruncateSuffix_FirstCommitsWhatWasQueuedBeforeIt()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { BeforeWriterTakesBatch = gate.Hold }))
        {
            using var release = gate;
            var queued = Enumerable.Range(1, 10).Select(i => wal.AppendAsync(Record(i, 10)).AsTask()).ToList();
            gate.WaitUntilWriterHeld();
            wal.TruncateSuffix(6);
            CollectionAssert.AreEqual(Enumerable.Range(1, 10).Select(i => (long)i).ToArray(), await Task.WhenAll(queued),
                "appends accepted before the truncation are completed as durable; the truncation then removes 6..10");
            Assert.AreEqual(5, wal.LastIndex);
            gate.Release();
        }
        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4, 5 }, ReadAll(dir.Path).Select(r => r.Index).ToArray());
    }

    [TestMethod]
    public void TruncatePrefix_DeletesOnlyWholeOlderSegments_AndSurvivesReopen()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 200, 120, seed: 26);
        WriteAndClose(dir.Path, records, SmallSegments);
        var firstIndexes = dir.Segments().Select(s => Convert.ToInt64(Path.GetFileName(s)[4..20], 16)).ToList();
        // The segment holding index 61 is the first to keep: every one before it ends at or below 60.
        var expectedFirst = firstIndexes.Last(first => first <= 61);
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            var deleted = wal.TruncatePrefix(60);
            Assert.AreEqual(firstIndexes.IndexOf(expectedFirst), deleted);
            Assert.AreEqual(expectedFirst, wal.FirstIndex);
        }
        using var reopened = WriteAheadLog.Open(dir.Path, SmallSegments);
        Assert.AreEqual(expectedFirst, reopened.FirstIndex);
        Assert.AreEqual(200, reopened.LastIndex);
        AssertSameRecords(records.Skip((int)expectedFirst - 1).ToList(), [.. reopened.ReadFrom(0)]);
        AssertSameRecords(records.Skip(60).ToList(), [.. reopened.ReadFrom(61)]);
    }

    [TestMethod]
    public void TruncatePrefix_NeverDeletesTheLastSegment()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 100, 120, seed: 27);
        WriteAndClose(dir.Path, records, SmallSegments);
        var lastSegment = dir.Segments()[^1];
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            wal.TruncatePrefix(1000);
            Assert.AreEqual(100, wal.LastIndex);
            Assert.AreEqual(1, wal.SegmentCount);
            wal.AppendBatch([Record(101, 10)]);
            wal.Sync();
        }
        CollectionAssert.AreEqual(new[] { lastSegment }, dir.Segments());
        Assert.AreEqual(101, ReadAll(dir.Path, SmallSegments)[^1].Index);
    }
}
