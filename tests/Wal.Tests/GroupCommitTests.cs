using static CurpStore.Wal.Tests.WalTestKit;

namespace CurpStore.Wal.Tests;

[TestClass]
public sealed class GroupCommitTests
{
    [TestMethod]
    public async Task ConcurrentAppenders_AllComplete_AndAreReadableAfterReopen()
    {
        using var dir = new TestDirectory();
        const int appenderCount = 32;
        const int appendsPerAppender = 100;
        var options = new WalOptions { SegmentSizeBytes = 64 * 1024 };
        var written = new System.Collections.Concurrent.ConcurrentDictionary<long, byte[]>();
        using (var wal = WriteAheadLog.Open(dir.Path, options))
        {
            var appenders = Enumerable.Range(0, appenderCount).Select(appender => Task.Run(async () =>
            {
                for (var i = 0; i < appendsPerAppender; i++)
                {
                    var payload = Record(0, 64 + (i % 7) * 30, $"a{appender}.{i}").Payload.ToArray();
                    var index = await wal.AppendAsync(EntryType, payload);
                    Assert.IsTrue(written.TryAdd(index, payload), $"index {index} was handed out twice");
                }
            })).ToArray();
            await Task.WhenAll(appenders);
            Assert.AreEqual(appenderCount * appendsPerAppender, wal.LastIndex);
        }

        CollectionAssert.AreEquivalent(
            Enumerable.Range(1, appenderCount * appendsPerAppender).Select(i => (long)i).ToArray(), written.Keys.ToArray());
        var read = ReadAll(dir.Path, options);
        Assert.HasCount(appenderCount * appendsPerAppender, read);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.AreEqual(i + 1, read[i].Index, "records are stored in index order");
            Assert.IsTrue(written[read[i].Index].AsSpan().SequenceEqual(read[i].Payload.Span), $"payload of index {read[i].Index}");
        }
    }

    [TestMethod]
    public async Task EverythingQueuedWhileTheWriterIsBusy_IsCommittedWithOneFsync()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        using var wal = WriteAheadLog.Open(dir.Path, new WalOptions { BeforeWriterTakesBatch = gate.Hold });
        using var release = gate;
        var first = wal.AppendAsync(EntryType, new byte[10]);
        gate.WaitUntilWriterHeld();
        var rest = Enumerable.Range(0, 99).Select(_ => wal.AppendAsync(EntryType, new byte[10]).AsTask()).ToList();
        Assert.IsFalse(first.IsCompleted, "nothing is acknowledged before its fsync");
        Assert.AreEqual(0, wal.SyncCount);
        gate.Release();
        Assert.AreEqual(1, await first);
        CollectionAssert.AreEqual(Enumerable.Range(2, 99).Select(i => (long)i).ToArray(), await Task.WhenAll(rest));
        Assert.AreEqual(1, wal.SyncCount, "the 100 appends queued while the writer was held form one batch and one fsync");
    }

    [TestMethod]
    public async Task FullQueue_FailsAtOnceWithWalFullException_AndTheRefusedRecordIsNotWritten()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        var options = new WalOptions { MaxQueuedRecords = 8, BeforeWriterTakesBatch = gate.Hold };
        List<Task<long>> accepted;
        using (var wal = WriteAheadLog.Open(dir.Path, options))
        {
            using var release = gate;
            accepted = [wal.AppendAsync(Record(1, 20)).AsTask()];
            gate.WaitUntilWriterHeld(); // the writer woke but has not taken the record: the queue holds 1
            accepted.AddRange(Enumerable.Range(2, 7).Select(i => wal.AppendAsync(Record(i, 20)).AsTask()));

            var refused = wal.AppendAsync(Record(9, 20));
            Assert.IsTrue(refused.IsFaulted, "a full queue fails the append at once, without waiting");
            var error = await Assert.ThrowsExactlyAsync<WalFullException>(async () => await refused);
            Assert.AreEqual(8, error.QueuedRecords);
            StringAssert.Contains(error.Message, "not written");
            Assert.AreEqual(8, wal.LastIndex, "a refused record does not advance the log");

            gate.Release();
            CollectionAssert.AreEqual(Enumerable.Range(1, 8).Select(i => (long)i).ToArray(), await Task.WhenAll(accepted));
            Assert.AreEqual(9, await wal.AppendAsync(Record(9, 20, "retried")), "the queue has room again once the batch is durable");
        }
        var read = ReadAll(dir.Path);
        CollectionAssert.AreEqual(Enumerable.Range(1, 9).Select(i => (long)i).ToArray(), read.Select(r => r.Index).ToArray());
        AssertSameRecords([Record(9, 20, "retried")], [read[^1]]);
    }

    [TestMethod]
    public async Task QueueBoundInBytes_IsEnforcedToo()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        var options = new WalOptions
        {
            MaxRecordPayloadBytes = 1000,
            MaxQueuedBytes = 3 * (RecordFormat.HeaderSizeBytes + 1000),
            BeforeWriterTakesBatch = gate.Hold,
        };
        using var wal = WriteAheadLog.Open(dir.Path, options);
        using var release = gate;
        var accepted = new List<Task<long>> { wal.AppendAsync(Record(1, 1000)).AsTask() };
        gate.WaitUntilWriterHeld();
        accepted.Add(wal.AppendAsync(Record(2, 1000)).AsTask());
        accepted.Add(wal.AppendAsync(Record(3, 1000)).AsTask());
        var refused = wal.AppendAsync(Record(4, 1));
        Assert.IsTrue(refused.IsFaulted);
        var error = await Assert.ThrowsExactlyAsync<WalFullException>(async () => await refused);
        Assert.AreEqual(3L * (RecordFormat.HeaderSizeBytes + 1000), error.QueuedBytes);
        gate.Release();
        await Task.WhenAll(accepted);
    }

    [TestMethod]
    public async Task CancelledBeforeTheCall_QueuesNothing()
    {
        using var dir = new TestDirectory();
        using var wal = WriteAheadLog.Open(dir.Path);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAsync<OperationCanceledException>(async () => await wal.AppendAsync(Record(1, 10), cancelled.Token));
        Assert.AreEqual(-1, wal.LastIndex);
        wal.Sync();
        Assert.IsEmpty(wal.ReadFrom(0).ToList());
    }

    [TestMethod]
    public async Task CancelledWhileWaiting_StopsTheWait_ButTheQueuedRecordStillBecomesDurable()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { BeforeWriterTakesBatch = gate.Hold }))
        {
            using var release = gate;
            using var cancellation = new CancellationTokenSource();
            var append = wal.AppendAsync(Record(1, 10), cancellation.Token);
            gate.WaitUntilWriterHeld();
            cancellation.Cancel();
            await Assert.ThrowsAsync<OperationCanceledException>(async () => await append);
            gate.Release();
            wal.Sync();
        }
        AssertSameRecords([Record(1, 10)], ReadAll(dir.Path));
    }

    [TestMethod]
    public async Task Dispose_CompletesEveryAppendAcceptedBeforeIt()
    {
        using var dir = new TestDirectory();
        var wal = WriteAheadLog.Open(dir.Path);
        var appends = Enumerable.Range(0, 200).Select(i => wal.AppendAsync(EntryType, new byte[] { (byte)i }).AsTask()).ToList();
        wal.Dispose();
        CollectionAssert.AreEqual(Enumerable.Range(1, 200).Select(i => (long)i).ToArray(), await Task.WhenAll(appends));
        Assert.HasCount(200, ReadAll(dir.Path));
    }

    [TestMethod]
    public async Task AppendBatch_KeepsAcceptanceOrderWithQueuedAsyncAppends()
    {
        using var dir = new TestDirectory();
        var gate = new WriterGate();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { BeforeWriterTakesBatch = gate.Hold }))
        {
            using var release = gate;
            var queued = wal.AppendAsync(Record(1, 10)).AsTask();
            gate.WaitUntilWriterHeld();
            wal.AppendBatch([Record(2, 10), Record(3, 10)]); // the queued record 1 must reach the file first
            wal.Sync();
            Assert.AreEqual(1, await queued, "Sync completes the queued append it made durable");
            gate.Release();
        }
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, ReadAll(dir.Path).Select(r => r.Index).ToArray());
    }
    [TestMethod]
    public async Task FailedFsync_FailsTheBatchAndEveryLaterWrite_UntilReopened()
    {
        using var dir = new TestDirectory();
        var failFsync = false;
        var options = new WalOptions
        {
            BeforeFsync = () =>
            {
                if (Volatile.Read(ref failFsync))
                {
                    throw new IOException("injected fsync failure");
                }
            },
        };
        using (var wal = WriteAheadLog.Open(dir.Path, options))
        {
            Assert.AreEqual(1, await wal.AppendAsync(Record(1, 10)));
            Volatile.Write(ref failFsync, true);
            var error = await Assert.ThrowsExactlyAsync<WalFailedException>(async () => await wal.AppendAsync(Record(2, 10)));
            StringAssert.Contains(error.Message, "injected fsync failure");
            Assert.IsInstanceOfType<IOException>(error.InnerException);

            var later = wal.AppendAsync(Record(3, 10));
            Assert.IsTrue(later.IsFaulted, "after a failed fsync nothing more is accepted");
            await Assert.ThrowsExactlyAsync<WalFailedException>(async () => await later);
            Assert.ThrowsExactly<WalFailedException>(() => wal.AppendBatch([Record(3, 10)]));
            Assert.ThrowsExactly<WalFailedException>(wal.Sync);
            Assert.ThrowsExactly<WalFailedException>(() => wal.TruncateSuffix(1));
        } // Dispose does not throw

        using var reopened = WriteAheadLog.Open(dir.Path);
        var read = reopened.ReadFrom(0).ToList();
        Assert.AreEqual(1, read[0].Index, "the acknowledged record survives");
        Assert.IsLessThanOrEqualTo(2, read.Count, "the failed record may or may not be there; nothing later is");
        Assert.AreEqual(read[^1].Index + 1, await reopened.AppendAsync(EntryType, new byte[] { 1 }));
    }
}
