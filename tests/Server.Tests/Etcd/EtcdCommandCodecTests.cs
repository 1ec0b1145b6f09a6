using System.Reflection;
using CurpStore.Curp;
using CurpStore.Wire;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using static CurpStore.Server.Tests.Etcd.EtcdSamples;
using S = CurpStore.Store;

namespace CurpStore.Server.Tests.Etcd;

[TestClass]
public sealed class EtcdCommandCodecTests
{
    private readonly EtcdCommandCodec codec = new();

    private static IEnumerable<S.EtcdError> AllErrors() => typeof(S.EtcdError)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(S.EtcdError))
        .Select(f => (S.EtcdError)f.GetValue(null)!);

    private static IEnumerable<ICommandResult> AllResults() =>
        [.. Responses().Select(s => (ICommandResult)s.Store), LeasesWithTtls, .. AuthResults(), .. AllErrors()];

    /// <summary>Every request the codec carries: the mapped samples and the store-only ones.</summary>
    private static IEnumerable<(string Name, S.EtcdRequest Request)> AllRequests() =>
        [.. Requests().Select(s => (s.Name, (S.EtcdRequest)s.Store)), .. StoreOnlyRequests()];

    /// <summary>The store's own listing keeps TTLs that etcd's message cannot carry; the codec must keep them.</summary>
    private static readonly S.LeaseLeasesResponse LeasesWithTtls = new() { Header = new(70), Leases = [new(1, 9, 10), new(-2, 0, long.MaxValue)] };

    [TestMethod]
    public void EveryCommand_RoundTrips_WithItsProposeId()
    {
        var sequence = 0UL;
        foreach (var (name, request) in AllRequests())
        {
            var command = new S.EtcdCommand(new ProposeId(ulong.MaxValue - sequence, ++sequence), request);
            var bytes = codec.EncodeCommand(command);
            Assert.AreEqual(EtcdCommandCodec.CommandTag, bytes[0]);
            Assert.AreEqual(EtcdCommandCodec.FormatVersion, bytes[1]);
            var decoded = (S.EtcdCommand)codec.DecodeCommand(bytes);
            Assert.AreEqual(command.Id, decoded.Id, name);
            StoreShape.AssertEqual(command.Request, decoded.Request, name);
            Assert.AreEqual(command.IsReadOnly, decoded.IsReadOnly, name);
            StoreShape.AssertEqual(command.KeyRanges, decoded.KeyRanges, name);
            CollectionAssert.AreEqual(bytes, codec.EncodeCommand(decoded), name);
        }
        Assert.AreSame(S.RequestAuth.Member, ((S.EtcdCommand)codec.DecodeCommand(codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 1), StoreOnlyRequests().Last().Request)))).Request.Auth);
    }

    [TestMethod]
    public void ACommandCarriesItsRequestAsTheEtcdMessage()
    {
        // The payload after the header is the request exactly as an etcd client would send it.
        var put = (S.PutRequest)PutA().Store;
        var bytes = codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 2), put));
        var expected = PutA().Proto.ToByteArray();
        CollectionAssert.AreEqual(expected, bytes.AsSpan(bytes.Length - expected.Length).ToArray());
    }

    [TestMethod]
    public void EveryResult_RoundTrips()
    {
        foreach (var result in AllResults())
        {
            var bytes = codec.EncodeResult(result);
            Assert.AreEqual(EtcdCommandCodec.ResultTag, bytes[0]);
            var decoded = codec.DecodeResult(bytes);
            StoreShape.AssertEqual(result, decoded, S.EtcdResultText.Render(result));
            Assert.AreEqual(S.EtcdResultText.Render(result), S.EtcdResultText.Render(decoded));
            CollectionAssert.AreEqual(bytes, codec.EncodeResult(decoded));
        }
    }

    [TestMethod]
    public void Errors_KeepCodeAndMessage_AndDecodeToTheStoresOwnInstances()
    {
        var errors = AllErrors().ToList();
        Assert.IsTrue(errors.Count >= 12, $"{errors.Count} errors");
        foreach (var error in errors)
        {
            var decoded = (S.EtcdError)codec.DecodeResult(codec.EncodeResult(error));
            Assert.AreSame(error, decoded);
            Assert.AreEqual(error.Code, decoded.Code);
            Assert.AreEqual(error.Message, decoded.Message);
            Assert.AreEqual(error.Kind, decoded.Kind);
        }
    }

    [TestMethod]
    public void LeaseListing_KeepsItsTtls()
    {
        var decoded = (S.LeaseLeasesResponse)codec.DecodeResult(codec.EncodeResult(LeasesWithTtls));
        CollectionAssert.AreEqual(LeasesWithTtls.Leases.ToList(), decoded.Leases.ToList());
        Assert.AreEqual(70L, decoded.Header.Revision);
    }

    [TestMethod]
    public void ResultsOfARealStore_RoundTrip()
    {
        var machine = new S.EtcdStateMachine(new S.InMemoryKvEngine());
        var index = 0UL;
        ICommandResult Apply(S.EtcdRequest request) => machine.Apply(new S.EtcdCommand(new ProposeId(1, index + 1), request), ++index);
        var results = new List<ICommandResult>
        {
            Apply(new S.LeaseGrantRequest { TtlSeconds = 60, Id = 5 }),
            Apply(new S.PutRequest { Key = B("a"), Value = B("1"), Lease = 5 }),
            Apply(new S.PutRequest { Key = B("a"), Value = B("2"), PrevKv = true }),
            Apply(new S.TxnRequest
            {
                Compare = [new S.Compare { Target = S.CompareTarget.Value, Key = B("a"), Value = B("2") }],
                Success = [new S.RangeRequest { Key = B("a") }, new S.PutRequest { Key = B("b"), Value = B("3") }, new S.TxnRequest { Success = [new S.RangeRequest { Key = B("b") }] }],
            }),
            Apply(new S.DeleteRangeRequest { Key = B("a"), PrevKv = true }),
            Apply(new S.CompactionRequest { Revision = 2 }),
            Apply(new S.RangeRequest { Key = B("a"), Revision = 1 }),
            Apply(new S.LeaseRevokeRequest { Id = 99 }),
            machine.LeaseTimeToLive(5, includeKeys: true, nowMs: 0),
            machine.Leases(0),
            machine.RenewLease(5, 0),
        };
        Assert.IsInstanceOfType<S.TxnResponse>(results[3]);
        Assert.AreSame(S.EtcdError.Compacted, results[6]);
        foreach (var result in results)
        {
            StoreShape.AssertEqual(result, codec.DecodeResult(codec.EncodeResult(result)), S.EtcdResultText.Render(result));
        }
    }

    [TestMethod]
    public void ThroughTheWireCodec_ProposalsAndAnswersCarryEtcdCommands()
    {
        var wire = new WireCodec(codec);
        var command = new S.EtcdCommand(new ProposeId(9, 4), (S.TxnRequest)Txn().Store);
        var messages = new Message[]
        {
            new ProposeRequest(1_001, 1, command, 3),
            new ProposeResponse(1, 1_001, command.Id, 5, 1, ProposeOutcome.LeaderSpeculated, 11, (ICommandResult)TxnResponse().Store, ProposeError.None),
            new SyncedResponse(1, 1_001, command.Id, 5, S.EtcdError.DuplicateKey, ProposeError.None),
        };
        var assembler = new SnapshotAssembler();
        foreach (var message in messages)
        {
            var envelope = Rpc.CurpWire.Envelope.Parser.ParseFrom(wire.Encode(message).Single().ToByteArray());
            var decoded = wire.Decode(envelope, assembler);
            Assert.IsNotNull(decoded);
            CollectionAssert.AreEqual(wire.Encode(message).Single().ToByteArray(), wire.Encode(decoded).Single().ToByteArray(), message.GetType().Name);
        }
    }

    [TestMethod]
    public void EveryTruncation_IsAFormatError()
    {
        var forms = new List<(string Name, byte[] Bytes, Action<byte[]> Decode)>();
        foreach (var (name, request) in AllRequests())
        {
            forms.Add((name, codec.EncodeCommand(new S.EtcdCommand(new ProposeId(300, 400), request)), b => codec.DecodeCommand(b)));
        }
        foreach (var result in AllResults())
        {
            forms.Add((S.EtcdResultText.Render(result), codec.EncodeResult(result), b => codec.DecodeResult(b)));
        }
        foreach (var (name, bytes, decode) in forms)
        {
            for (var length = 0; length < bytes.Length; length++)
            {
                var prefix = bytes[..length];
                Assert.ThrowsExactly<FormatException>(() => decode(prefix), $"{name}: first {length} of {bytes.Length} bytes");
            }
        }
    }

    [TestMethod]
    public void TrailingBytes_AreAFormatError()
    {
        var command = codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 1), (S.EtcdRequest)PutA().Store));
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([.. command, 0]));
        var result = codec.EncodeResult(S.EtcdError.Compacted);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult([.. result, 0]));
    }

    [TestMethod]
    public void WrongTagsVersionsAndKinds_AreFormatErrors()
    {
        var command = codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 1), (S.EtcdRequest)PutA().Store));
        var result = codec.EncodeResult((ICommandResult)PutResponse().Store);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(command), "a command is not a result");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(result), "a result is not a command");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeSnapshot(command), "a command is not a snapshot");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(command, 1, 2)), "format version 2");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(With(result, 1, 0)), "format version 0");
        // command: tag, version, client id 1, sequence 1, then the request kind.
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(command, 4, 0)), "request kind 0");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(command, 4, 200)), "request kind 200");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(With(result, 2, 0)), "result kind 0");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(With(result, 2, 99)), "result kind 99");
    }

    [TestMethod]
    public void GarbagePayloads_AreFormatErrors()
    {
        // A request kind with a payload that is no protobuf message (field 0 is invalid; a group end without start).
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([EtcdCommandCodec.CommandTag, 1, 1, 1, 2, 2, 0x00, 0x00]));
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([EtcdCommandCodec.CommandTag, 1, 1, 1, 4, 1, 0x0c]));
        // A varint that never ends, and one that overflows 64 bits.
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([EtcdCommandCodec.CommandTag, 1, .. Enumerable.Repeat((byte)0xff, 12)]));
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([EtcdCommandCodec.CommandTag, 1, .. Enumerable.Repeat((byte)0xff, 9), 0x02, 1, 2, 0]));
        // A length beyond the end.
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand([EtcdCommandCodec.CommandTag, 1, 1, 1, 2, 100, 0x0a]));
        // Random bytes.
        var random = new Random(20_261_121);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(bytes), Convert.ToHexString(bytes));
        }
    }

    [TestMethod]
    public void OnlyTheMembersOwnIdentity_MayClaimToBeTheMembers()
    {
        var forged = codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 1), new S.LeaseRevokeRequest { Id = 9, Auth = new S.RequestAuth("root", 5) }));
        // tag, version, client id, sequence, Authorized, "root" (length 4), revision 5, then the member flag.
        Assert.AreEqual(0, forged[11]);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(forged, 11, 1)), "a user that claims the members' flag");
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(forged, 11, 2)), "a flag that is no boolean");
        var twice = codec.EncodeCommand(new S.EtcdCommand(new ProposeId(1, 1), new S.AuthStatusRequest { Auth = new S.RequestAuth("", 0) }));
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeCommand(With(twice, 8, 20)), "two identities");
    }

    [TestMethod]
    public void UnknownErrors_AndErrorsWithTheWrongCode_AreRefused()
    {
        var known = codec.EncodeResult(S.EtcdError.LeaseNotFound);
        Assert.AreEqual((byte)S.GrpcStatusCode.NotFound, known[3]);
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(With(known, 3, (byte)S.GrpcStatusCode.Internal)), "code disagrees with the message");
        byte[] invented = [EtcdCommandCodec.ResultTag, 1, 1, 3, 5, .. EtcdSamples.B("nope!")];
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(invented), "a message no etcd error has");
        var notUtf8 = new byte[] { EtcdCommandCodec.ResultTag, 1, 1, 3, 2, 0xc3, 0x28 };
        Assert.ThrowsExactly<FormatException>(() => codec.DecodeResult(notUtf8), "invalid UTF-8");
    }

    [TestMethod]
    public void MutatedEncodings_FailOnlyWithFormatErrors()
    {
        var forms = AllRequests().Select(r => codec.EncodeCommand(new S.EtcdCommand(new ProposeId(5, 6), r.Request)))
            .Concat(AllResults().Select(codec.EncodeResult))
            .ToList();
        var random = new Random(7);
        var failures = 0;
        for (var i = 0; i < 5_000; i++)
        {
            var bytes = (byte[])forms[random.Next(forms.Count)].Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++)
            {
                bytes[random.Next(2, bytes.Length)] = (byte)random.Next(256);
            }
            try
            {
                if (bytes[0] == EtcdCommandCodec.CommandTag)
                {
                    codec.DecodeCommand(bytes);
                }
                else
                {
                    codec.DecodeResult(bytes);
                }
            }
            catch (FormatException)
            {
                failures++;
            }
        }
        Assert.IsTrue(failures > 100, $"only {failures} of 5000 mutations were refused: the checks look too lax");
    }

    [TestMethod]
    public void ObjectsOfOtherStateMachines_AreRefusedOnEncode()
    {
        Assert.ThrowsExactly<ArgumentException>(() => codec.EncodeCommand(new GeoSim.Cluster.KvCommand(new ProposeId(1, 1), GeoSim.Cluster.KvOperation.Get, "k")));
        Assert.ThrowsExactly<ArgumentException>(() => codec.EncodeResult(new GeoSim.Cluster.KvResult(true, null, 1, 1)));
        Assert.ThrowsExactly<ArgumentException>(() => codec.EncodeSnapshot(new OtherSnapshot()));
    }

    private static byte[] With(byte[] bytes, int index, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] = value;
        return copy;
    }

    private sealed class OtherSnapshot : IStateSnapshot;
}
