using System.Buffers;
using System.Reflection;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.BadInput;

/// <summary>
/// Bounded fuzz runs (a fixed seed, a few thousand inputs) of the protobuf decoding and request validation of every
/// request type, in process, and of the gRPC framing against a running member. A failure names the seed, the input
/// number and the input's bytes; <c>CURPSTORE_FUZZ_SEED</c> and <c>CURPSTORE_FUZZ_ITERATIONS</c> replay or lengthen a run.
/// </summary>
[TestClass]
public sealed class FuzzTests
{
    private const int MaxTxnOps = 128;

    /// <summary>Methods the live run leaves out: they change the membership or move leadership, which would stop the
    /// one-member cluster from serving for reasons that are not bad input.</summary>
    private static readonly HashSet<string> LiveExcluded =
        ["MemberAdd", "MemberRemove", "MemberUpdate", "MemberPromote", "MoveLeader", "AuthEnable", "Defragment", "Snapshot"];

    private static readonly Dictionary<Type, MethodInfo> ToStore = typeof(EtcdProtoMapping)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(m => m.Name == nameof(EtcdProtoMapping.ToStore) && m.GetParameters().Length == 1)
        .ToDictionary(m => m.GetParameters()[0].ParameterType);

    [TestMethod]
    public void DecodingAndValidation_OfEveryRequestType_FailOnlyWithTheServersUnmarshallingError()
    {
        var (seed, iterations) = RequestFuzzer.Settings(defaultSeed: 7, defaultIterations: 20_000);
        var fuzzer = new RequestFuzzer(seed);
        var codec = new EtcdCommandCodec();
        var (decoded, refused) = (0, 0);
        for (var i = 0; i < iterations; i++)
        {
            var type = RequestFuzzer.RequestTypes[i % RequestFuzzer.RequestTypes.Count];
            var input = fuzzer.MutatedMessage(type);
            try
            {
                IMessage message;
                try
                {
                    message = MessageFraming.Parse(type.Parser, new ReadOnlySequence<byte>(input), readingRequests: true);
                }
                catch (RpcException e)
                {
                    Assert.AreEqual(GrpcStatusCode.Internal, e.StatusCode);
                    StringAssert.StartsWith(e.Status.Detail, "grpc: error unmarshalling request: ");
                    refused++;
                    continue;
                }
                decoded++;
                Assert.AreEqual(message, type.Parser.ParseFrom(message.ToByteArray()), "re-encoding changes the message");
                CheckAsTheServerWould(message, codec);
            }
            catch (Exception e) when (e is not AssertFailedException)
            {
                Assert.Fail($"seed {seed}, input {i} ({type.Name}, {Convert.ToHexString(input)}): {e}");
            }
            catch (AssertFailedException e)
            {
                Assert.Fail($"seed {seed}, input {i} ({type.Name}, {Convert.ToHexString(input)}): {e.Message}");
            }
        }
        Assert.IsTrue(decoded > iterations / 10 && refused > iterations / 10, $"decoded {decoded}, refused {refused}: the mutations reach both paths");
    }

    /// <summary>The facade's steps for a decoded request: the mapping to the store's request, etcd's validation, and for
    /// a request that goes into the log, the log record's encoding and decoding.</summary>
    private static void CheckAsTheServerWould(IMessage message, EtcdCommandCodec codec)
    {
        var error = message switch
        {
            Pb.RangeRequest range => Store.RequestValidator.ValidateRange(EtcdProtoMapping.ToStore(range)),
            Pb.PutRequest put => Store.RequestValidator.ValidatePut(EtcdProtoMapping.ToStore(put)),
            Pb.DeleteRangeRequest delete => Store.RequestValidator.ValidateDeleteRange(EtcdProtoMapping.ToStore(delete)),
            Pb.TxnRequest txn => Store.RequestValidator.ValidateTxn(EtcdProtoMapping.ToStore(txn), MaxTxnOps),
            _ => null,
        };
        if (error is not null || !ToStore.TryGetValue(message.GetType(), out var map))
        {
            return;
        }
        if (map.Invoke(null, [message]) is Store.EtcdRequest request and (Store.RangeRequest or Store.PutRequest or Store.DeleteRangeRequest or Store.TxnRequest
            or Store.CompactionRequest or Store.LeaseGrantRequest or Store.LeaseRevokeRequest or Store.AlarmRequest))
        {
            var record = codec.EncodeCommand(new Store.EtcdCommand(new ProposeId(1, 1), request));
            CollectionAssert.AreEqual(record, codec.EncodeCommand(codec.DecodeCommand(record)), "the log record does not decode to the same command");
        }
    }

    [TestMethod]
    public async Task GrpcFraming_AgainstALiveMember_EveryCallEndsWithAStatus_AndTheMemberServesAfterwards()
    {
        var (seed, iterations) = RequestFuzzer.Settings(defaultSeed: 11, defaultIterations: 1_500);
        await using var members = await InProcessMembers.StartAsync(1);
        var channel = members.Channels[0];
        using var raw = new RawGrpc(members.ClientUrls[0]);
        var fuzzer = new RequestFuzzer(seed);
        var methods = RequestFuzzer.Methods.Where(m => !LiveExcluded.Contains(m.Name)).ToList();
        var inputs = Enumerable.Range(0, iterations).Select(i =>
        {
            var method = fuzzer.Pick(methods);
            return (Index: i, Path: $"/{method.Service.FullName}/{method.Name}", Body: fuzzer.MutatedFrames(fuzzer.MutatedMessage(method.InputType)));
        }).ToList();
        var codes = new Dictionary<GrpcStatusCode, int>();
        using var parallel = new SemaphoreSlim(16);
        await Task.WhenAll(inputs.Select(async input =>
        {
            await parallel.WaitAsync();
            try
            {
                // The deadline ends calls that wait by design (a watch, a lock held by another input) with a status too.
                var answer = await raw.SendAsync(input.Path, input.Body, timeout: TimeSpan.FromSeconds(2));
                var where = $"seed {seed}, input {input.Index} ({input.Path}, {Convert.ToHexString(input.Body)})";
                Assert.IsNotNull(answer.Code, $"{where}: no grpc-status (HTTP {answer.HttpStatus})");
                Assert.IsFalse(answer.Message?.StartsWith("Exception was thrown by handler", StringComparison.Ordinal) ?? false, $"{where}: {answer.Message}");
                lock (codes)
                {
                    codes[answer.Code.Value] = codes.GetValueOrDefault(answer.Code.Value) + 1;
                }
            }
            finally
            {
                parallel.Release();
            }
        }));

        Assert.IsTrue(codes.Count >= 3, $"the inputs reach several answers: {string.Join(", ", codes)}");
        var status = await channel.UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest()).WaitAsync(RawGrpc.CallLimit);
        Assert.AreNotEqual(0UL, status.Leader);
        // Only a read: the inputs may legitimately delete keys, compact or raise an alarm that refuses writes.
        var range = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("fuzz/after") }).WaitAsync(RawGrpc.CallLimit);
        Assert.IsTrue(range.Header.Revision > 0);
    }
}
