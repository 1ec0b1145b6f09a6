using System.Collections.Immutable;
using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;
using CurpStore.Wire;
using Google.Protobuf;

namespace CurpStore.Server.Tests;

[TestClass]
public sealed class WireCodecTests
{
    private static readonly KvCommand Put = new(new ProposeId(7, 3), KvOperation.Put, "k", "v");
    private static readonly PooledCommand Pooled = new(Put, 1_001, 2);
    private static readonly KvResult Result = new(true, "old", 42, 43);

    private static IEnumerable<Message> EveryMessage() =>
    [
        new PreVoteRequest(1, 2, 5, 10, 4),
        new PreVoteResponse(2, 1, 5, true),
        new VoteRequest(1, 2, 5, 10, 4, true),
        new VoteResponse(2, 1, 5, true, [Pooled]),
        new AppendRequest(1, 2, 5, 9, 4, [
            new LogEntry(10, 5, NoopPayload.Instance),
            new LogEntry(11, 5, new CommandPayload(Put, 1_001, 2)),
            new LogEntry(12, 5, new RegisterSessionPayload(1_001, 99)),
            new LogEntry(13, 5, new ExpireSessionsPayload([3, 4])),
            new LogEntry(14, 5, new MembershipPayload(new Membership([1, 2, 3], [4]) { Attributes = ImmutableSortedDictionary.CreateRange([new KeyValuePair<ulong, string>(4, "{\"name\":\"four\"}")]) })),
        ], 9, 7),
        new AppendResponse(2, 1, 5, false, 0, 8, 3, 7),
        new InstallSnapshotResponse(2, 1, 5, 100),
        new StalePoolReport(2, 1, 5, [Pooled]),
        new TimeoutNow(1, 2, 5),
        new ProposeRequest(1_001, 1, Put, 2),
        new ProposeResponse(1, 1_001, Put.Id, 5, 1, ProposeOutcome.LeaderSpeculated, 11, Result, ProposeError.None),
        new ProposeResponse(2, 1_001, Put.Id, 5, 1, ProposeOutcome.Refused, 0, null, ProposeError.TooManyRequests),
        new SyncedResponse(1, 1_001, Put.Id, 5, Result, ProposeError.None),
        new CommitNotice(2, 1_001, Put.Id, 11, 5),
        new RegisterSessionRequest(1_001, 1, 99),
        new RegisterSessionResponse(1, 1_001, 99, 12, 1, ProposeError.None),
        new ReadRequest(1_001, 1, new KvCommand(new ProposeId(0, 1), KvOperation.Get, "k"), true),
        new ReadResponse(1, 1_001, new ProposeId(0, 1), 1, Result, ProposeError.None),
    ];

    [TestMethod]
    public void EveryMessage_SurvivesTheWire()
    {
        var codec = new WireCodec(new KvCommandCodec());
        var assembler = new SnapshotAssembler();
        foreach (var message in EveryMessage())
        {
            var wire = codec.Encode(message).Single();
            var decoded = codec.Decode(W(wire), assembler);
            Assert.IsNotNull(decoded);
            Assert.AreEqual(message.GetType(), decoded.GetType());
            // Encoding the decoded message gives the same bytes: nothing was lost or changed on the way.
            CollectionAssert.AreEqual(wire.ToByteArray(), codec.Encode(decoded).Single().ToByteArray(), message.GetType().Name);
        }
    }

    [TestMethod]
    public void Snapshots_TravelInBoundedChunks_AndReassemble()
    {
        var machine = new KvStateMachine();
        for (var i = 0; i < 200; i++)
        {
            machine.Apply(new KvCommand(new ProposeId(1, (ulong)i + 1), KvOperation.Put, $"key{i}", new string('x', 50)), (ulong)i + 1);
        }
        var snapshot = new Snapshot(200, 3, new Membership([1, 2, 3], []), SessionTableImage.Empty(8), machine.TakeSnapshot());
        var codec = new WireCodec(new KvCommandCodec(), snapshotChunkBytes: 1_000);
        var chunks = codec.Encode(new InstallSnapshotRequest(1, 2, 3, snapshot)).ToList();
        Assert.IsTrue(chunks.Count > 10, $"{chunks.Count} chunks");
        Assert.IsTrue(chunks.All(c => c.InstallSnapshot.Data.Length <= 1_000));
        var assembler = new SnapshotAssembler();
        var messages = chunks.Select(c => codec.Decode(W(c), assembler)).ToList();
        Assert.IsTrue(messages.Take(chunks.Count - 1).All(m => m is null));
        var installed = (InstallSnapshotRequest)messages[^1]!;
        var restored = new KvStateMachine();
        restored.RestoreSnapshot(installed.Snapshot.State);
        Assert.AreEqual(machine.Revision, restored.Revision);
        Assert.AreEqual(new string('x', 50), restored.Get("key199")!.Data);
    }

    [TestMethod]
    public void ALostChunk_DropsTheAttemptInsteadOfInstallingAGap()
    {
        var snapshot = new Snapshot(5, 1, new Membership([1, 2, 3], []), SessionTableImage.Empty(8), new KvStateMachine().TakeSnapshot());
        var codec = new WireCodec(new KvCommandCodec(), snapshotChunkBytes: 4);
        var chunks = codec.Encode(new InstallSnapshotRequest(1, 2, 1, snapshot)).ToList();
        Assert.IsTrue(chunks.Count >= 3);
        var assembler = new SnapshotAssembler();
        var results = chunks.Where((_, i) => i != 1).Select(c => codec.Decode(W(c), assembler)).ToList();
        Assert.IsTrue(results.All(m => m is null));
    }

    [TestMethod]
    public void AnEmptyEnvelope_IsAFormatError()
    {
        var codec = new WireCodec(new KvCommandCodec());
        Assert.ThrowsExactly<FormatException>(() => codec.Decode(new Rpc.CurpWire.Envelope { From = 1, To = 2 }, new SnapshotAssembler()));
    }

    /// <summary>Through bytes, as on the network.</summary>
    private static Rpc.CurpWire.Envelope W(Rpc.CurpWire.Envelope envelope) => Rpc.CurpWire.Envelope.Parser.ParseFrom(envelope.ToByteArray());
}
