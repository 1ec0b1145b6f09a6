using System.Collections.Immutable;
using CurpStore.Curp;
using CurpStore.Wire;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using static CurpStore.Server.Tests.Etcd.EtcdSamples;
using S = CurpStore.Store;

namespace CurpStore.Server.Tests.Etcd;

[TestClass]
public sealed class EtcdSnapshotCodecTests
{
    private readonly EtcdCommandCodec codec = new();

    /// <summary>A store with overwrites, deletes, a txn, two leases (one checkpointed, one revoked with its key), a
    /// compaction, binary and empty values.</summary>
    private static (S.EtcdStateMachine Machine, ulong NextIndex) BusyStore()
    {
        var machine = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        var index = 0UL;
        void Apply(S.EtcdRequest request)
        {
            var result = machine.Apply(new S.EtcdCommand(new ProposeId(3, index + 1), request), ++index);
            Assert.IsInstanceOfType<S.EtcdResponse>(result, S.EtcdResultText.Render(result));
        }
        Apply(new S.LeaseGrantRequest { TtlSeconds = 100, Id = 11 });
        Apply(new S.LeaseGrantRequest { TtlSeconds = 50, Id = 12 });
        Apply(new S.PutRequest { Key = B("a"), Value = B("1") }); // 2
        Apply(new S.PutRequest { Key = B("a"), Value = B("2"), Lease = 11 }); // 3
        Apply(new S.PutRequest { Key = B("b"), Value = B("1") }); // 4
        Apply(new S.PutRequest { Key = B("c"), Value = B("1"), Lease = 12 }); // 5
        Apply(new S.DeleteRangeRequest { Key = B("b") }); // 6
        Apply(new S.TxnRequest { Success = [new S.PutRequest { Key = B("d"), Value = B("1") }, new S.PutRequest { Key = B("e"), Value = B("1"), Lease = 11 }] }); // 7
        Apply(new S.CompactionRequest { Revision = 4 });
        Apply(new S.PutRequest { Key = B("a"), Value = B("3") }); // 8
        Apply(new S.LeaseCheckpointRequest { Checkpoints = [new(11, 40)] });
        Apply(new S.LeaseRevokeRequest { Id = 12 }); // 9, deletes c
        Apply(new S.PutRequest { Key = [0, 0xff, 0x80], Value = [0xff, 0, 0xfe] }); // 10
        Apply(new S.PutRequest { Key = B("g") }); // 11, empty value
        Apply(new S.DeleteRangeRequest { Key = B("d"), RangeEnd = [0] }); // 12, deletes d, e and g
        Apply(new S.PutRequest { Key = B("e"), Value = B("again"), Lease = 11 }); // 13
        return (machine, index + 1);
    }

    /// <summary>Everything a client can observe of a store, rendered.</summary>
    private static List<string> Observe(S.EtcdStateMachine machine)
    {
        var observed = new List<string>
        {
            $"rev={machine.Revision} compacted={machine.CompactedRevision} applied={machine.AppliedIndex}",
            string.Join(',', machine.Leases(0).Leases),
            TimeToLive(machine, 11),
            TimeToLive(machine, 12),
        };
        for (var rev = machine.CompactedRevision - 1; rev <= machine.Revision + 1; rev++)
        {
            observed.Add(S.EtcdResultText.Render(machine.Read(new S.RangeRequest { Key = [0], RangeEnd = [0], Revision = rev })));
        }
        return observed;
    }

    private static string TimeToLive(S.EtcdStateMachine machine, long id)
    {
        var answer = machine.LeaseTimeToLive(id, includeKeys: true, nowMs: 0);
        return $"lease {answer.Id}@{answer.Header.Revision} ttl={answer.TtlSeconds} granted={answer.GrantedTtlSeconds} keys={string.Join(',', answer.Keys.Select(Convert.ToHexString))}";
    }

    [TestMethod]
    public void ASnapshotOfARealStore_SurvivesEncoding_AndTheRestoredStoreAnswersAlike()
    {
        var (machine, nextIndex) = BusyStore();
        var snapshot = (S.EtcdSnapshot)machine.TakeSnapshot();
        Assert.IsTrue(snapshot.Records.Length >= 13, $"{snapshot.Records.Length} records");
        Assert.IsTrue(snapshot.Records.Any(r => r.IsTombstone), "the history holds tombstones");
        Assert.AreEqual(4L, machine.CompactedRevision);

        var bytes = codec.EncodeSnapshot(snapshot);
        Assert.AreEqual(EtcdCommandCodec.SnapshotTag, bytes[0]);
        var decoded = (S.EtcdSnapshot)codec.DecodeSnapshot(bytes);
        StoreShape.AssertEqual(snapshot.Records, decoded.Records, "records");
        StoreShape.AssertEqual(snapshot.Meta, decoded.Meta, "meta");
        Assert.AreEqual(snapshot.ConsistentIndex, decoded.ConsistentIndex);
        CollectionAssert.AreEqual(bytes, codec.EncodeSnapshot(decoded));

        var restored = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        restored.RestoreSnapshot(decoded);
        Assert.AreEqual(machine.StateDigest(), restored.StateDigest());
        var expected = Observe(machine);
        CollectionAssert.AreEqual(expected, Observe(restored));
        StringAssert.Contains(expected[0], "compacted=4");
        Assert.AreEqual("lease 11@13 ttl=40 granted=100 keys=65", expected[2], "the checkpointed lease and its key are in the image");
        Assert.AreEqual("lease 12@13 ttl=-1 granted=0 keys=", expected[3], "the revoked lease stays revoked");
        Assert.AreEqual(S.EtcdResultText.Render(S.EtcdError.Compacted), expected[4], "a read below the compaction fails alike");

        // Both go on identically.
        var put = new S.PutRequest { Key = B("a"), Value = B("4"), Lease = 11, PrevKv = true };
        var next = machine.Apply(new S.EtcdCommand(new ProposeId(4, 1), put), nextIndex);
        var nextRestored = restored.Apply(new S.EtcdCommand(new ProposeId(4, 1), put), nextIndex);
        Assert.AreEqual(S.EtcdResultText.Render(next), S.EtcdResultText.Render(nextRestored));
        Assert.AreEqual(machine.StateDigest(), restored.StateDigest());
    }

    [TestMethod]
    public void ALiveImage_IsWrittenAsTheSameBytesAsACapturedOne_StraightFromTheEngine()
    {
        var (machine, nextIndex) = BusyStore();
        var captured = codec.EncodeSnapshot(machine.TakeSnapshot());
        var live = machine.TakeLiveSnapshot();
        using var written = new MemoryStream();
        codec.WriteSnapshot(live, written);
        CollectionAssert.AreEqual(captured, written.ToArray());
        CollectionAssert.AreEqual(captured, codec.EncodeSnapshot(live), "the image can be read again while nothing changed");

        // Once something is applied the engine no longer holds the image's state: reading it then must fail, not
        // write a mixture.
        machine.Apply(new S.EtcdCommand(new ProposeId(4, 1), new S.PutRequest { Key = B("late"), Value = B("1") }), nextIndex);
        var stale = Assert.ThrowsExactly<InvalidOperationException>(() => codec.WriteSnapshot(live, new MemoryStream()));
        StringAssert.Contains(stale.Message, "after the state changed");
    }

    [TestMethod]
    public void AnImageWhoseRecordsDoNotMatchItsCount_IsNotWritten()
    {
        var (machine, _) = BusyStore();
        var snapshot = (S.EtcdSnapshot)machine.TakeSnapshot();
        var shortOfOne = new MiscountedImage(snapshot.Records.Length + 1, snapshot.Records, snapshot.Meta);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => codec.WriteSnapshot(shortOfOne, new MemoryStream()));
        StringAssert.Contains(error.Message, $"announced {snapshot.Records.Length + 1} records but holds {snapshot.Records.Length}");
        var oneTooMany = new MiscountedImage(snapshot.Records.Length - 1, snapshot.Records, snapshot.Meta);
        Assert.ThrowsExactly<InvalidOperationException>(() => codec.WriteSnapshot(oneTooMany, new MemoryStream()));
    }

    private sealed record MiscountedImage(int RecordCount, IEnumerable<S.KvRecord> Records, IReadOnlyCollection<KeyValuePair<string, byte[]>> Meta) : S.IEtcdImage;

    [TestMethod]
    public void AnEmptyStore_RoundTrips()
    {
        var machine = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        var decoded = (S.EtcdSnapshot)codec.DecodeSnapshot(codec.EncodeSnapshot(machine.TakeSnapshot()));
        var restored = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        restored.Apply(new S.EtcdCommand(new ProposeId(1, 1), new S.PutRequest { Key = B("x") }), 1);
        restored.RestoreSnapshot(decoded);
        Assert.AreEqual(machine.StateDigest(), restored.StateDigest(), "the restore replaced the earlier content");
        Assert.AreEqual(machine.Revision, restored.Revision);
    }

    [TestMethod]
    public void ExtremeValues_RoundTripExactly()
    {
        var records = ImmutableArray.Create(
            new S.KvRecord(new S.Revision(long.MinValue, -1), new S.KeyValue { Key = B("k"), ModRevision = long.MaxValue, CreateRevision = -5, Version = long.MinValue, Lease = -1 }, false),
            new S.KvRecord(new S.Revision(3, 0), new S.KeyValue { Key = [], Value = new byte[70_000], ModRevision = 3 }, true),
            new S.KvRecord(new S.Revision(long.MaxValue, long.MaxValue), new S.KeyValue { Key = [0], ModRevision = long.MinValue }, false));
        var meta = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, byte[]>
        {
            [""] = [],
            ["lease/ü"] = [1, 2, 3],
            ["revision"] = BitConverter.GetBytes(long.MaxValue),
        });
        var snapshot = new S.EtcdSnapshot(records, meta);
        var decoded = (S.EtcdSnapshot)codec.DecodeSnapshot(codec.EncodeSnapshot(snapshot));
        StoreShape.AssertEqual(snapshot.Records, decoded.Records);
        StoreShape.AssertEqual(snapshot.Meta, decoded.Meta);
    }

    [TestMethod]
    public void TheEncodingIsCompact()
    {
        var (machine, _) = BusyStore();
        var snapshot = (S.EtcdSnapshot)machine.TakeSnapshot();
        var payload = snapshot.Records.Sum(r => r.Kv.Key.Length + r.Kv.Value.Length) + snapshot.Meta.Sum(m => m.Key.Length + m.Value.Length);
        var bytes = codec.EncodeSnapshot(snapshot);
        // Small numbers take one byte each: at most ~10 bytes of framing per record and ~2 per meta entry.
        Assert.IsTrue(bytes.Length <= payload + (10 * snapshot.Records.Length) + (2 * snapshot.Meta.Count) + 4, $"{bytes.Length} bytes for {payload} bytes of keys and values");
    }

    [TestMethod]
    public void EveryTruncation_IsAFormatError()
    {
        var (machine, _) = BusyStore();
        var bytes = codec.EncodeSnapshot(machine.TakeSnapshot());
        for (var length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes[..length];
            Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(prefix), $"first {length} of {bytes.Length} bytes");
        }
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot([.. bytes, 0]), "a trailing byte");
    }

    [TestMethod]
    public void RecordsOutOfOrder_OrRepeated_AreRefused()
    {
        var kv = new S.KeyValue { Key = B("k"), ModRevision = 2 };
        var outOfOrder = new S.EtcdSnapshot([new(new S.Revision(3, 0), kv, false), new(new S.Revision(2, 0), kv, false)], ImmutableSortedDictionary<string, byte[]>.Empty);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(codec.EncodeSnapshot(outOfOrder)));
        var repeated = new S.EtcdSnapshot([new(new S.Revision(2, 1), kv, false), new(new S.Revision(2, 1), kv, true)], ImmutableSortedDictionary<string, byte[]>.Empty);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(codec.EncodeSnapshot(repeated)));
    }

    [TestMethod]
    public void MalformedImages_AreRefused()
    {
        var one = new S.EtcdSnapshot([new(new S.Revision(2, 0), new S.KeyValue { Key = B("k"), ModRevision = 2 }, false)], ImmutableSortedDictionary<string, byte[]>.Empty);
        var bytes = codec.EncodeSnapshot(one);
        // tag, version, record count, flags: an unknown flag bit.
        Assert.AreEqual(1, bytes[2]);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(With(bytes, 3, 0x02)), "unknown flags");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(With(bytes, 1, 9)), "unknown format version");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(With(bytes, 0, EtcdCommandCodec.ResultTag)), "not a snapshot");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(With(bytes, 2, 100)), "more records than bytes");

        var tag = EtcdCommandCodec.SnapshotTag;
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot([tag, 1, 0, 2, 1, (byte)'b', 0, 1, (byte)'a', 0]), "meta names out of order");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot([tag, 1, 0, 2, 1, (byte)'a', 0, 1, (byte)'a', 0]), "a repeated meta name");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot([tag, 1, 0, 1, 2, 0xc3, 0x28, 0]), "a meta name that is not UTF-8");
        var valid = codec.DecodeSnapshot([tag, 1, 0, 2, 1, (byte)'a', 0, 1, (byte)'b', 1, 7]);
        CollectionAssert.AreEqual(new byte[] { 7 }, ((S.EtcdSnapshot)valid).Meta["b"], "the hand-made image itself is well formed");
    }

    [TestMethod]
    public void MutatedImages_FailOnlyWithFormatErrors()
    {
        var (machine, _) = BusyStore();
        var original = codec.EncodeSnapshot(machine.TakeSnapshot());
        var random = new Random(11);
        var refused = 0;
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = (byte[])original.Clone();
            bytes[random.Next(2, bytes.Length)] = (byte)random.Next(256);
            try
            {
                codec.DecodeSnapshot(bytes);
            }
            catch (FormatException)
            {
                refused++;
            }
        }
        Assert.IsTrue(refused > 100, $"only {refused} of 2000 mutations were refused");
    }

    [TestMethod]
    public void ThroughTheWireCodec_AnImageTravelsInChunks_AndInstalls()
    {
        var (machine, _) = BusyStore();
        var wire = new WireCodec(codec, snapshotChunkBytes: 64);
        var snapshot = new Snapshot(machine.AppliedIndex, 2, new Membership([1, 2, 3], []), SessionTableImage.Empty(4), machine.TakeSnapshot());
        var chunks = wire.Encode(new InstallSnapshotRequest(1, 2, 2, snapshot)).ToList();
        Assert.IsTrue(chunks.Count > 3, $"{chunks.Count} chunks");
        var assembler = new SnapshotAssembler();
        var decoded = chunks.Select(c => wire.Decode(Rpc.CurpWire.Envelope.Parser.ParseFrom(c.ToByteArray()), assembler)).ToList();
        Assert.IsTrue(decoded.SkipLast(1).All(m => m is null), "only the last chunk completes the image");
        var installed = decoded[^1] as InstallSnapshotRequest;
        Assert.IsNotNull(installed);
        var restored = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        restored.RestoreSnapshot(installed.Snapshot.State);
        Assert.AreEqual(machine.StateDigest(), restored.StateDigest());
        CollectionAssert.AreEqual(Observe(machine), Observe(restored));
    }

    private static byte[] With(byte[] bytes, int index, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] = value;
        return copy;
    }
}
