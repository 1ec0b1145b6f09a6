using static CurpStore.Wal.Tests.WalTestKit;

namespace CurpStore.Wal.Tests;

[TestClass]
public sealed class AppendReadTests
{
    [TestMethod]
    public void RoundTrip_AcrossSegmentRollover()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { SegmentSizeBytes = 4096 };
        var records = Records(1, 500, 300, seed: 1);
        using (var wal = WriteAheadLog.Open(dir.Path, options))
        {
            wal.AppendBatch(records.Take(200).ToList());
            wal.Sync();
            wal.AppendBatch(records.Skip(200).ToList());
            wal.Sync();
            Assert.AreEqual(500, wal.LastIndex);
            AssertSameRecords(records, [.. wal.ReadFrom(0)]);
        }

        var segments = dir.Segments();
        Assert.IsGreaterThan(10, segments.Length, "500 records of up to 317 bytes must roll over 4 KiB segments");
        foreach (var segment in segments)
        {
            Assert.IsLessThanOrEqualTo(4096L, new FileInfo(segment).Length, segment);
        }
        using var reopened = WriteAheadLog.Open(dir.Path, options);
        Assert.AreEqual(0L, reopened.Recovery.DroppedTailBytes);
        Assert.AreEqual(500L, reopened.Recovery.RecordCount);
        Assert.AreEqual(1, reopened.FirstIndex);
        Assert.AreEqual(500, reopened.LastIndex);
        AssertSameRecords(records, [.. reopened.ReadFrom(0)]);
        AssertSameRecords(records.Skip(249).ToList(), [.. reopened.ReadFrom(250)]);
        Assert.IsEmpty(reopened.ReadFrom(501).ToList());
    }

    [TestMethod]
    public void SegmentFiles_AreNamedAfterTheIndexOfTheirFirstRecord()
    {
        using var dir = new TestDirectory();
        WriteAndClose(dir.Path, Records(1000, 100, 200, seed: 2), new WalOptions { SegmentSizeBytes = 2048 });
        var segments = dir.Segments();
        Assert.IsGreaterThan(1, segments.Length);
        Assert.AreEqual("wal-00000000000003e8.log", Path.GetFileName(segments[0]));
        foreach (var segment in segments)
        {
            var nameIndex = Convert.ToInt64(Path.GetFileName(segment)[4..20], 16);
            var header = File.ReadAllBytes(segment).AsSpan(0, RecordFormat.HeaderSizeBytes);
            Assert.AreEqual((ulong)nameIndex, RecordFormat.ReadIndex(header), segment);
        }
    }

    [TestMethod]
    public async Task RecordsLargerThanTheStagingBufferAndTheSegment_RoundTrip()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { SegmentSizeBytes = 8192, WriteBufferBytes = 4096 };
        List<WalRecord> records = [Record(1, 100), Record(2, 10_000), Record(3, 5000), Record(4, 0), Record(5, 20_000)];
        using (var wal = WriteAheadLog.Open(dir.Path, options))
        {
            wal.AppendBatch(records.Take(3).ToList());
            wal.Sync();
            Assert.AreEqual(4, await wal.AppendAsync(records[3]));
            Assert.AreEqual(5, await wal.AppendAsync(records[4]));
        }
        AssertSameRecords(records, ReadAll(dir.Path, options));
    }

    [TestMethod]
    public void ManyRecordsWithOneIndex_StayInOneSegmentRatherThanReuseItsName()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { SegmentSizeBytes = 512 };
        var records = Enumerable.Range(0, 50).Select(i => Record(5, 40, $"same{i}")).ToList();
        WriteAndClose(dir.Path, records, options);
        Assert.HasCount(1, dir.Segments());
        AssertSameRecords(records, ReadAll(dir.Path, options));
    }

    [TestMethod]
    public void AppendBatch_WithoutSync_IsWrittenByDispose()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 20, 100, seed: 3);
        using (var wal = WriteAheadLog.Open(dir.Path))
        {
            wal.AppendBatch(records);
            AssertSameRecords(records, [.. wal.ReadFrom(0)]); // visible to readers before any sync
        }
        AssertSameRecords(records, ReadAll(dir.Path));
    }

    [TestMethod]
    public void DecreasingIndexes_AreRefused_AndNothingIsWritten()
    {
        using var dir = new TestDirectory();
        using var wal = WriteAheadLog.Open(dir.Path);
        wal.AppendBatch([Record(10, 5)]);
        Assert.ThrowsExactly<ArgumentException>(() => wal.AppendBatch([Record(11, 5), Record(10, 5)]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wal.AppendBatch([Record(9, 5)]));
        var refused = wal.AppendAsync(Record(9, 5));
        Assert.IsTrue(refused.IsFaulted, "an index below the last one is refused without queuing");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => refused.GetAwaiter().GetResult());
        wal.AppendBatch([Record(10, 5, "again")]); // equal indexes are allowed
        wal.Sync();
        Assert.AreEqual(10, wal.LastIndex);
        Assert.AreEqual(2, wal.ReadFrom(0).Count());
    }

    [TestMethod]
    public void OversizedPayload_IsAnArgumentError()
    {
        using var dir = new TestDirectory();
        using var wal = WriteAheadLog.Open(dir.Path, new WalOptions { MaxRecordPayloadBytes = 1000 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wal.AppendAsync(Record(1, 1001)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => wal.AppendBatch([Record(1, 1001)]));
        Assert.AreEqual(-1, wal.LastIndex);
    }

    [TestMethod]
    public async Task WalChosenIndexes_StartAtOne_AndContinueAfterReopen()
    {
        using var dir = new TestDirectory();
        using (var wal = WriteAheadLog.Open(dir.Path))
        {
            Assert.AreEqual(1, await wal.AppendAsync(EntryType, new byte[] { 1 }));
            Assert.AreEqual(2, await wal.AppendAsync(EntryType, new byte[] { 2 }));
        }
        using var reopened = WriteAheadLog.Open(dir.Path);
        Assert.AreEqual(3, await reopened.AppendAsync(EntryType, new byte[] { 3 }));
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, reopened.ReadFrom(0).Select(r => r.Index).ToArray());
    }

    [TestMethod]
    public void SecondOpenOfTheSameDirectory_FailsUntilTheFirstIsDisposed()
    {
        using var dir = new TestDirectory();
        var first = WriteAheadLog.Open(dir.Path);
        var error = Assert.ThrowsExactly<IOException>(() => WriteAheadLog.Open(dir.Path));
        StringAssert.Contains(error.Message, "already open");
        first.Dispose();
        using var second = WriteAheadLog.Open(dir.Path);
        Assert.AreEqual(-1, second.LastIndex);
    }

    [TestMethod]
    public async Task AfterDispose_AppendsAreRefused()
    {
        using var dir = new TestDirectory();
        var wal = WriteAheadLog.Open(dir.Path);
        wal.Dispose();
        wal.Dispose(); // idempotent
        await Assert.ThrowsExactlyAsync<ObjectDisposedException>(async () => await wal.AppendAsync(Record(1, 1)));
        Assert.ThrowsExactly<ObjectDisposedException>(() => wal.AppendBatch([Record(1, 1)]));
        Assert.ThrowsExactly<ObjectDisposedException>(wal.Sync);
    }

    [TestMethod]
    public void ForeignFilesAreIgnored_ButAMisnamedSegmentIsReported()
    {
        using var dir = new TestDirectory();
        WriteAndClose(dir.Path, Records(1, 3, 10, seed: 4));
        File.WriteAllText(Path.Combine(dir.Path, "notes.txt"), "not a segment");
        Assert.HasCount(3, ReadAll(dir.Path));
        var misnamed = Path.Combine(dir.Path, "wal-XYZ.log");
        File.WriteAllText(misnamed, "");
        var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path));
        Assert.AreEqual(misnamed, error.SegmentPath);
    }
}
