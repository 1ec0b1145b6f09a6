using static CurpStore.Wal.Tests.WalTestKit;

namespace CurpStore.Wal.Tests;

/// <summary>Open after damage: a torn tail is cut back to the last whole record, anything else is refused with the
/// file and the offset.</summary>
[TestClass]
public sealed class RecoveryTests
{
    private static readonly WalOptions SmallSegments = new() { SegmentSizeBytes = 4096 };

    [TestMethod]
    [DataRow(false, DisplayName = "one segment")]
    [DataRow(true, DisplayName = "many segments")]
    public void TornTail_AtRandomPoints_ReopensAtTheLastWholeRecord(bool manySegments)
    {
        var options = manySegments ? SmallSegments : new WalOptions();
        using var original = new TestDirectory();
        var records = Records(1, 60, 250, seed: 11);
        WriteAndClose(original.Path, records, options);
        var segmentPaths = original.Segments();
        Assert.AreEqual(manySegments, segmentPaths.Length > 1);
        var lastSegmentFirstIndex = Convert.ToInt64(Path.GetFileName(segmentPaths[^1])[4..20], 16);
        var inLastSegment = records.Where(r => r.Index >= lastSegmentFirstIndex).ToList();
        var lastSegmentLengthBytes = new FileInfo(segmentPaths[^1]).Length;
        Assert.AreEqual(inLastSegment.Sum(EncodedLength), lastSegmentLengthBytes);

        for (var seed = 0; seed < 120; seed++)
        {
            var random = new Random(seed);
            using var dir = original.CopySegments();
            var lastSegment = dir.Segments()[^1];
            var cutBytes = random.NextInt64(0, lastSegmentLengthBytes);
            // What a crash can leave behind the last durable byte: nothing, zeros (a file extended before its data),
            // or leftover bytes of the records being written.
            var tail = (seed % 3) switch
            {
                0 => [],
                1 => new byte[random.Next(1, 600)],
                _ => File.ReadAllBytes(lastSegment).AsSpan((int)cutBytes, (int)Math.Min(lastSegmentLengthBytes - cutBytes, random.Next(1, 600))).ToArray(),
            };
            using (var file = new FileStream(lastSegment, FileMode.Open))
            {
                file.SetLength(cutBytes);
                file.Position = cutBytes;
                file.Write(tail);
            }
            // Leftover bytes of the original records extend the valid prefix; zeros do not.
            var intactBytes = seed % 3 == 2 ? cutBytes + tail.Length : cutBytes;
            var wholeInLast = 0;
            var wholeEndBytes = 0L;
            while (wholeInLast < inLastSegment.Count && wholeEndBytes + EncodedLength(inLastSegment[wholeInLast]) <= intactBytes)
            {
                wholeEndBytes += EncodedLength(inLastSegment[wholeInLast]);
                wholeInLast++;
            }
            var expected = records.Where(r => r.Index < lastSegmentFirstIndex).Concat(inLastSegment.Take(wholeInLast)).ToList();
            var context = $"seed {seed}: cut at {cutBytes} + {tail.Length} tail bytes, {wholeInLast} whole records left in the last segment";

            var logLines = new List<string>();
            using (var wal = WriteAheadLog.Open(dir.Path, options with { Log = logLines.Add }))
            {
                Assert.AreEqual(cutBytes + tail.Length - wholeEndBytes, wal.Recovery.DroppedTailBytes, context);
                Assert.AreEqual(expected.Count > 0 ? expected[^1].Index : -1, wal.LastIndex, context);
                AssertSameRecords(expected, [.. wal.ReadFrom(0)]);
                if (wal.Recovery.DroppedTailBytes > 0)
                {
                    Assert.IsTrue(logLines.Any(line => line.Contains($"dropped {wal.Recovery.DroppedTailBytes} bytes")), context);
                    Assert.AreEqual(wholeEndBytes, wal.Recovery.TornTailOffsetBytes, context);
                }
                Assert.AreEqual(wholeInLast == 0, wal.Recovery.RemovedEmptySegmentPath is not null, context);
                // The log goes on from the cut: a new record after it survives the next reopen.
                wal.AppendBatch([Record(wal.LastIndex + 1, 30, "after-crash")]);
                wal.Sync();
                expected.Add(Record(wal.LastIndex, 30, "after-crash"));
            }
            using var reopened = WriteAheadLog.Open(dir.Path, options);
            Assert.AreEqual(0L, reopened.Recovery.DroppedTailBytes, context);
            AssertSameRecords(expected, [.. reopened.ReadFrom(0)]);
        }
    }

    [TestMethod]
    public void FlippedByteInAMiddleRecord_FailsWithFileAndOffset()
    {
        using var original = new TestDirectory();
        var records = Records(1, 30, 200, seed: 12);
        WriteAndClose(original.Path, records);
        var offsets = RecordOffsets(records);
        for (var seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            using var dir = original.CopySegments();
            var segment = dir.Segments().Single();
            var victim = random.Next(records.Count - 1); // any record but the last
            var position = offsets[victim] + random.Next(EncodedLength(records[victim]));
            FlipByte(segment, position, random);

            var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path), $"seed {seed}");
            Assert.AreEqual(segment, error.SegmentPath);
            Assert.AreEqual(offsets[victim], error.OffsetBytes, $"seed {seed}: byte {position} of record {victim}");
            StringAssert.Contains(error.Message, segment);
            StringAssert.Contains(error.Message, $"byte offset {offsets[victim]}");
        }
    }

    [TestMethod]
    public void FlippedByteInASegmentThatIsNotTheLast_FailsWithFileAndOffset()
    {
        using var dir = new TestDirectory();
        var records = Records(1, 60, 250, seed: 13);
        WriteAndClose(dir.Path, records, SmallSegments);
        var segments = dir.Segments();
        var secondFirstIndex = Convert.ToInt64(Path.GetFileName(segments[1])[4..20], 16);
        var inFirst = records.Where(r => r.Index < secondFirstIndex).ToList();
        var lastRecordOffset = RecordOffsets(inFirst)[^1];
        // The last record of a closed segment: at the end of its file, yet not a torn tail.
        FlipByte(segments[0], lastRecordOffset + RecordFormat.IndexOffset, new Random(1));

        var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path, SmallSegments));
        Assert.AreEqual(segments[0], error.SegmentPath);
        Assert.AreEqual(lastRecordOffset, error.OffsetBytes);
        StringAssert.Contains(error.Message, "not the last");
    }

    [TestMethod]
    public void FlippedByteInTheLastRecordsPayload_IsATornTail()
    {
        using var original = new TestDirectory();
        var records = Records(1, 30, 200, seed: 14);
        records[^1] = Record(30, 100);
        WriteAndClose(original.Path, records);
        var lastOffset = RecordOffsets(records)[^1];
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            using var dir = original.CopySegments();
            FlipByte(dir.Segments().Single(), lastOffset + RecordFormat.HeaderSizeBytes + random.Next(100), random);
            using var wal = WriteAheadLog.Open(dir.Path);
            Assert.AreEqual(EncodedLength(records[^1]), wal.Recovery.DroppedTailBytes, $"seed {seed}");
            Assert.AreEqual(29, wal.LastIndex);
            AssertSameRecords(records.Take(29).ToList(), [.. wal.ReadFrom(0)]);
        }
    }

    [TestMethod]
    public void IndexGoingBackwards_IsCorruption()
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, "wal-0000000000000005.log");
        File.WriteAllBytes(path, [.. Encode(Record(5, 10)), .. Encode(Record(6, 10)), .. Encode(Record(4, 10)), .. Encode(Record(7, 10))]);
        var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path));
        Assert.AreEqual(2L * Encode(Record(5, 10)).Length, error.OffsetBytes);
        StringAssert.Contains(error.Message, "backwards");
    }

    [TestMethod]
    public void FirstRecordNotMatchingTheFileName_IsCorruption()
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, "wal-0000000000000005.log");
        File.WriteAllBytes(path, [.. Encode(Record(6, 10))]);
        var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path));
        Assert.AreEqual(path, error.SegmentPath);
        Assert.AreEqual(0L, error.OffsetBytes);
    }

    [TestMethod]
    public void EmptyLastSegment_IsRemoved_AndTheNextAppendNamesItsOwnSegment()
    {
        using var dir = new TestDirectory();
        WriteAndClose(dir.Path, Records(1, 10, 20, seed: 15));
        var empty = Path.Combine(dir.Path, "wal-0000000000000063.log"); // index 99: a rollover the crash interrupted
        File.WriteAllBytes(empty, []);
        using (var wal = WriteAheadLog.Open(dir.Path, SmallSegments))
        {
            Assert.AreEqual(empty, wal.Recovery.RemovedEmptySegmentPath);
            Assert.IsFalse(File.Exists(empty));
            Assert.AreEqual(10, wal.LastIndex);
            wal.AppendBatch([Record(11, 10)]);
            wal.Sync();
        }
        Assert.HasCount(11, ReadAll(dir.Path));
    }

    [TestMethod]
    public void EmptySegmentThatIsNotTheLast_IsCorruption()
    {
        using var dir = new TestDirectory();
        WriteAndClose(dir.Path, Records(5, 10, 20, seed: 16));
        var empty = Path.Combine(dir.Path, "wal-0000000000000001.log");
        File.WriteAllBytes(empty, []);
        var error = Assert.ThrowsExactly<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path));
        Assert.AreEqual(empty, error.SegmentPath);
        StringAssert.Contains(error.Message, "no record");
    }

    private static byte[] Encode(WalRecord record)
    {
        var bytes = new byte[EncodedLength(record)];
        RecordFormat.Encode(bytes, record.Type, record.Index, record.Payload.Span);
        return bytes;
    }

    private static long[] RecordOffsets(IReadOnlyList<WalRecord> records)
    {
        var offsets = new long[records.Count];
        for (var i = 1; i < records.Count; i++)
        {
            offsets[i] = offsets[i - 1] + EncodedLength(records[i - 1]);
        }
        return offsets;
    }

    private static void FlipByte(string path, long position, Random random)
    {
        using var file = new FileStream(path, FileMode.Open);
        file.Position = position;
        var original = file.ReadByte();
        file.Position = position;
        file.WriteByte((byte)(original ^ random.Next(1, 256)));
    }
}
