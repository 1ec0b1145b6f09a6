using System.Net;
using System.Net.Sockets;
using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.BadInput;

/// <summary>
/// The bad-input catalogue of the README, one test per line, against one running member (the real server in this
/// process). Each test asserts the exact gRPC code and message, that the member still serves afterwards, and that a
/// write acknowledged before the bad input is still there. etcd 3.4's answers to the same inputs are in the README
/// (checked by hand against Debian's etcd 3.4.23).
/// </summary>
[TestClass]
public sealed class BadInputCatalogueTests
{
    /// <summary>Small bounds so that the bounded-resource tests reach them quickly.</summary>
    public const int MaxRequestBytes = 4096;
    public const int MaxWatchersPerStream = 1_000;
    public const int MaxClientConnections = 64;

    private static InProcessMembers members = null!;
    private static GrpcChannel channel = null!;
    private static RawGrpc raw = null!;
    private static long acknowledgedRevision;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        _ = context;
        members = await InProcessMembers.StartAsync(1, options => options with
        {
            MaxRequestBytes = MaxRequestBytes,
            MaxClientConnections = MaxClientConnections,
            Watch = options.Watch with { MaxWatchersPerStream = MaxWatchersPerStream },
        });
        channel = members.Channels[0];
        raw = new RawGrpc(Endpoint);
        acknowledgedRevision = await Kv.PutAsync(channel, "acknowledged", "before");
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        raw.Dispose();
        await members.DisposeAsync();
    }

    private static Uri Endpoint => members.ClientUrls[0];

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static async Task<RpcException> RefusedAsync<T>(Func<Task<T>> call)
    {
        using var limit = new CancellationTokenSource(RawGrpc.CallLimit);
        return await Assert.ThrowsExactlyAsync<RpcException>(() => call().WaitAsync(limit.Token));
    }

    private static void AssertStatus(GrpcStatusCode code, string message, RpcException error) =>
        Assert.AreEqual((code, message), (error.StatusCode, error.Status.Detail));

    private static void AssertStatus(GrpcStatusCode code, string message, RawGrpcAnswer answer) =>
        Assert.AreEqual((code, message), (answer.Code, answer.Message), $"HTTP {answer.HttpStatus}");

    /// <summary>The member answers a write and a read, and the write acknowledged before the test is still there.</summary>
    private static async Task AssertStillServesAsync()
    {
        using var limit = new CancellationTokenSource(RawGrpc.CallLimit);
        var put = await channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Key = Bytes("after"), Value = Bytes("v") }).WaitAsync(limit.Token);
        Assert.IsTrue(put.Header.Revision > acknowledgedRevision);
        var range = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes("acknowledged") }).WaitAsync(limit.Token);
        Assert.AreEqual("before", range.Kvs.Single().Value.ToStringUtf8());
        Assert.AreEqual(acknowledgedRevision, range.Kvs[0].ModRevision);
    }

    [TestMethod]
    public async Task OversizedRequest_IsRefusedByEtcdsLimitThenByTheGrpcLimit()
    {
        var overEtcd = await RefusedAsync(() => channel.UnaryAsync(KVMethods.Put,
            new Pb.PutRequest { Key = Bytes("big"), Value = ByteString.CopyFrom(new byte[MaxRequestBytes + 1]) }));
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: request is too large", overEtcd);

        var request = new Pb.PutRequest { Key = Bytes("big"), Value = ByteString.CopyFrom(new byte[ServerProcess.GrpcOverheadBytes + MaxRequestBytes]) };
        var answer = await raw.SendAsync(KVMethods.Put.FullName, RawGrpc.Frame(request));
        AssertStatus(GrpcStatusCode.ResourceExhausted,
            $"grpc: received message larger than max ({request.CalculateSize()} vs. {ServerProcess.GrpcOverheadBytes + MaxRequestBytes})", answer);
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task EmptyKey_IsRefusedInRangePutDeleteAndTxn()
    {
        const string message = "etcdserver: key is not provided";
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest())));
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.Put, new Pb.PutRequest { Value = Bytes("v") })));
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.DeleteRange, new Pb.DeleteRangeRequest())));
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.Txn,
            new Pb.TxnRequest { Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest() } } })));
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task RangeEndBelowKey_IsAnEmptyRange_AsInEtcd()
    {
        await Kv.PutAllAsync(channel, ("below/a", "1"), ("below/b", "2"));
        var range = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes("below/b"), RangeEnd = Bytes("below/a") });
        Assert.AreEqual((0, 0L, false), (range.Kvs.Count, range.Count, range.More));
        var delete = await channel.UnaryAsync(KVMethods.DeleteRange, new Pb.DeleteRangeRequest { Key = Bytes("below/b"), RangeEnd = Bytes("below/a") });
        Assert.AreEqual(0L, delete.Deleted);
        var kept = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes("below/"), RangeEnd = Bytes("below0") });
        Assert.AreEqual(2, kept.Kvs.Count);
        await AssertStillServesAsync();
    }

    [TestMethod]
    [DataRow(-1L)]
    [DataRow(long.MinValue)]
    [DataRow(long.MaxValue)]
    public async Task NegativeOrHugeLimit_MeansNoLimit_AsInEtcd(long limit)
    {
        await Kv.PutAllAsync(channel, ("limit/a", "1"), ("limit/b", "2"), ("limit/c", "3"));
        var range = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes("limit/"), RangeEnd = Bytes("limit0"), Limit = limit });
        Assert.AreEqual((3, 3L, false), (range.Kvs.Count, range.Count, range.More));
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task UnknownEnumValues_SortOptionsAreRefused_CompareEnumsPass()
    {
        // etcd 3.5 refuses both; etcd 3.4.23 answers an unknown sort order as no order and crashes on an unknown sort target.
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: invalid sort option", await RefusedAsync(() => channel.UnaryAsync(KVMethods.Range,
            new Pb.RangeRequest { Key = Bytes("a"), SortOrder = (Pb.RangeRequest.Types.SortOrder)99 })));
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: invalid sort option", await RefusedAsync(() => channel.UnaryAsync(KVMethods.Range,
            new Pb.RangeRequest { Key = Bytes("a"), SortTarget = (Pb.RangeRequest.Types.SortTarget)99 })));

        // As etcd 3.4: an unknown compare result holds, an unknown target compares equal.
        foreach (var compare in new[]
        {
            new Pb.Compare { Key = Bytes("enum/missing"), Result = (Pb.Compare.Types.CompareResult)99, Target = Pb.Compare.Types.CompareTarget.Version },
            new Pb.Compare { Key = Bytes("enum/missing"), Result = Pb.Compare.Types.CompareResult.Equal, Target = (Pb.Compare.Types.CompareTarget)99 },
        })
        {
            var txn = await channel.UnaryAsync(KVMethods.Txn, new Pb.TxnRequest { Compare = { compare } });
            Assert.IsTrue(txn.Succeeded, compare.ToString());
        }

        // An unknown alarm action changes nothing and lists nothing (etcd 3.4.23 crashes on it).
        var alarm = await channel.UnaryAsync(MaintenanceMethods.Alarm, new Pb.AlarmRequest { Action = (Pb.AlarmRequest.Types.AlarmAction)99 });
        Assert.AreEqual(0, alarm.Alarms.Count);
        await AssertStillServesAsync();
    }

    private static Pb.RequestOp PutOp(string key) => new() { RequestPut = new Pb.PutRequest { Key = Bytes(key), Value = Bytes("v") } };

    [TestMethod]
    public async Task TxnWithTooManyOperations_IsRefused()
    {
        var txn = new Pb.TxnRequest();
        txn.Success.Add(Enumerable.Range(0, 129).Select(i => PutOp($"ops/{i}")));
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request",
            await RefusedAsync(() => channel.UnaryAsync(KVMethods.Txn, txn)));
        var written = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes("ops/"), RangeEnd = Bytes("ops0"), CountOnly = true });
        Assert.AreEqual(0L, written.Count, "nothing of the refused txn was applied");
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task TxnWithDuplicateKeys_IsRefused()
    {
        const string message = "etcdserver: duplicate key given in txn request";
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.Txn,
            new Pb.TxnRequest { Success = { PutOp("dup"), PutOp("dup") } })));
        AssertStatus(GrpcStatusCode.InvalidArgument, message, await RefusedAsync(() => channel.UnaryAsync(KVMethods.Txn,
            new Pb.TxnRequest { Success = { new Pb.RequestOp { RequestDeleteRange = new Pb.DeleteRangeRequest { Key = Bytes("dup"), RangeEnd = Bytes("dup0") } }, PutOp("dup/x") } })));
        await AssertStillServesAsync();
    }

    private static Pb.TxnRequest Nested(int depth)
    {
        var txn = new Pb.TxnRequest { Success = { PutOp("nested") } };
        for (var i = 1; i < depth; i++)
        {
            txn = new Pb.TxnRequest { Success = { new Pb.RequestOp { RequestTxn = txn } } };
        }
        return txn;
    }

    [TestMethod]
    public async Task TxnNestingBeyondTheBound_IsRefused()
    {
        var deepest = await channel.UnaryAsync(KVMethods.Txn, Nested(Store.RequestValidator.MaxTxnDepth));
        Assert.IsTrue(deepest.Succeeded);
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request",
            await RefusedAsync(() => channel.UnaryAsync(KVMethods.Txn, Nested(Store.RequestValidator.MaxTxnDepth + 1))));
        // Deeper than protobuf's decoding depth (100 messages, two per level): refused while decoding.
        var answer = await raw.SendAsync(KVMethods.Txn.FullName, RawGrpc.Frame(Nested(60)));
        AssertStatus(GrpcStatusCode.Internal, BadInputLimits.TooDeepMessage, answer);
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task MalformedProtobuf_IsAnUnmarshallingError()
    {
        // A length-delimited key field whose length runs past the end of the message.
        var answer = await raw.SendAsync(KVMethods.Range.FullName, RawGrpc.Frame(0, [0x0a, 0xff]));
        AssertStatus(GrpcStatusCode.Internal, BadInputLimits.TruncatedMessage, answer);
        // A varint of eleven bytes.
        answer = await raw.SendAsync(KVMethods.Range.FullName, RawGrpc.Frame(0, [0x18, .. Enumerable.Repeat((byte)0xff, 10), 0x01]));
        AssertStatus(GrpcStatusCode.Internal, "grpc: error unmarshalling request: CodedInputStream encountered a malformed varint.", answer);
        // The key (field 1) sent as a varint: a wrong wire type for the field is kept as an unknown field by protobuf 3
        // decoders (etcd's gogo decoder refuses it), and the request then has no key.
        answer = await raw.SendAsync(KVMethods.Range.FullName, RawGrpc.Frame(0, [0x08, 0x01]));
        AssertStatus(GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided", answer);
        // Found by the fuzzer: a nested message's length prefix of int.MaxValue made the decoder throw
        // ArgumentOutOfRangeException or IndexOutOfRangeException, which reached the client as "Exception was thrown
        // by handler."
        answer = await raw.SendAsync(WatchMethods.Watch.FullName, RawGrpc.Frame(0, Convert.FromHexString("12FFFFFFFF070ADF00")));
        AssertStatus(GrpcStatusCode.Internal, "grpc: error unmarshalling request: Specified argument was out of the range of valid values.", answer);
        answer = await raw.SendAsync(WatchMethods.Watch.FullName, RawGrpc.Frame(0, Convert.FromHexString("1A0012FFFFFFFF070A00")));
        AssertStatus(GrpcStatusCode.Internal, "grpc: error unmarshalling request: Index was outside the bounds of the array.", answer);
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task TruncatedOrBadFrames_AnswerAsGrpcGo()
    {
        var path = KVMethods.Range.FullName;
        AssertStatus(GrpcStatusCode.Unknown, "unexpected EOF", await raw.SendAsync(path, RawGrpc.Frame(0, [0x0a, 0x01], claimedLength: 10)));
        AssertStatus(GrpcStatusCode.Unknown, "unexpected EOF", await raw.SendAsync(path, [0, 0, 0]));
        AssertStatus(GrpcStatusCode.Unknown, "EOF", await raw.SendAsync(path, []));
        AssertStatus(GrpcStatusCode.Internal, "grpc: compressed flag set with identity or empty encoding",
            await raw.SendAsync(path, RawGrpc.Frame(1, [0x0a, 0x01, 0x61])));
        AssertStatus(GrpcStatusCode.Internal, "grpc: received unexpected payload format 2", await raw.SendAsync(path, RawGrpc.Frame(2, [0x0a, 0x01, 0x61])));
        // A length prefix of 4 GiB - 1: refused from the prefix alone, before any body is buffered.
        AssertStatus(GrpcStatusCode.ResourceExhausted, $"grpc: received message larger than max ({uint.MaxValue} vs. {ServerProcess.GrpcOverheadBytes + MaxRequestBytes})",
            await raw.SendAsync(path, RawGrpc.Frame(0, [0x0a], claimedLength: uint.MaxValue)));
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task UnknownServicesAndMethods_AreUnimplemented()
    {
        AssertStatus(GrpcStatusCode.Unimplemented, "unknown service foo.Bar", await raw.SendAsync("/foo.Bar/Baz", RawGrpc.Frame(0, [])));
        AssertStatus(GrpcStatusCode.Unimplemented, "unknown method Nope for service etcdserverpb.KV", await raw.SendAsync("/etcdserverpb.KV/Nope", RawGrpc.Frame(0, [])));
        AssertStatus(GrpcStatusCode.Unimplemented, "malformed method name: \"/nothing\"", await raw.SendAsync("/nothing", RawGrpc.Frame(0, [])));
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task NonGrpcHttp2Requests_AreRefusedWithAStatus()
    {
        var json = await raw.SendAsync(KVMethods.Range.FullName, Encoding.UTF8.GetBytes("{}"), contentType: "application/json");
        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, json.HttpStatus);
        AssertStatus(GrpcStatusCode.InvalidArgument, "invalid gRPC request content-type \"application/json\"", json);
        var get = await raw.SendAsync(KVMethods.Range.FullName, [], method: HttpMethod.Get);
        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, get.HttpStatus);
        AssertStatus(GrpcStatusCode.InvalidArgument, "invalid gRPC request content-type \"\"", get);
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task Http11OrNonHttpBytes_GetA400OrAGoaway_AndTheConnectionCloses()
    {
        var reply = await BadInputLimits.SendRawAsync(Endpoint, "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.AreEqual(BadInputLimits.Http11Refusal, reply);
        // Neither HTTP/1 nor HTTP/2: an HTTP/2 GOAWAY frame (type 7, last stream 0) with PROTOCOL_ERROR (1), then close.
        reply = await BadInputLimits.SendRawAsync(Endpoint, "hello, this is not HTTP at all\r\n\r\n"u8.ToArray());
        Assert.AreEqual("0000080700000000000000000000000001", Convert.ToHexString(Encoding.Latin1.GetBytes(reply)));
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task ThousandsOfWatches_OnOneStream_AreBounded()
    {
        using var watch = new WatchClient(channel);
        const int tried = MaxWatchersPerStream + 500;
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < tried; i++)
            {
                await watch.SendAsync(new Pb.WatchCreateRequest { Key = Bytes($"watched/{i}") });
            }
        });
        var (created, refused) = (0, 0);
        for (var i = 0; i < tried; i++)
        {
            var response = await watch.NextAsync();
            if (response.Canceled)
            {
                Assert.AreEqual("etcdserver: too many requests", response.CancelReason);
                refused++;
            }
            else
            {
                Assert.IsTrue(response.Created, response.ToString());
                created++;
            }
        }
        await sending;
        Assert.AreEqual((MaxWatchersPerStream, 500), (created, refused));
        var revision = await Kv.PutAsync(channel, "watched/7", "seen");
        var evented = await watch.NextAsync();
        Assert.AreEqual((revision, "watched/7"), (evented.Header.Revision, evented.Events.Single().Kv.Key.ToStringUtf8()));
        await AssertStillServesAsync();
    }

    /// <summary>Watches <paramref name="prefix"/> on <paramref name="silent"/>, then puts 2,000 values of 2 KiB there
    /// without reading the watch (far more than its queue and the HTTP/2 window hold). Returns the first revision the
    /// watcher must see and the last one written.</summary>
    private static async Task<(long Next, long Last)> PutWhileNotReadingAsync(WatchClient silent, string prefix)
    {
        var created = await silent.CreateAsync(prefix, prefix: true);
        var value = new string('x', 2048);
        long last = 0;
        for (var i = 0; i < 2_000; i++)
        {
            last = await Kv.PutAsync(channel, $"{prefix}{i % 50}", value);
        }
        return (created.Header.Revision + 1, last);
    }

    [TestMethod]
    public async Task WatcherThatNeverReads_CostsABoundedQueue_ThenCatchesUp()
    {
        using var silent = new WatchClient(channel);
        var (next, last) = await PutWhileNotReadingAsync(silent, "silent/");
        // The member kept serving while the watcher did not read; now it reads, and gets every event in order.
        while (next <= last)
        {
            var response = await silent.NextAsync();
            foreach (var e in response.Events)
            {
                Assert.AreEqual(next++, e.Kv.ModRevision);
            }
        }
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task WatcherThatNeverReads_WhileHistoryIsCompacted_IsCanceledWithTheCompactRevision()
    {
        using var silent = new WatchClient(channel);
        var (next, last) = await PutWhileNotReadingAsync(silent, "gone/");
        await Kv.CompactAsync(channel, last);
        await Kv.WaitForCompactionAsync(channel, last);
        while (true)
        {
            var response = await silent.NextAsync();
            if (response.Canceled)
            {
                // etcd's answer to a watcher whose next revision was compacted away.
                Assert.AreEqual(last, response.CompactRevision);
                Assert.IsTrue(next <= last, "canceled although it had every event");
                break;
            }
            foreach (var e in response.Events)
            {
                Assert.AreEqual(next++, e.Kv.ModRevision);
            }
        }
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task LeaseStorm_EveryGrantIsAnsweredAndKept()
    {
        const int grants = 2_000;
        var results = await Task.WhenAll(Enumerable.Range(0, grants).Select(async _ =>
        {
            try
            {
                return (await channel.UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = 600 }).WaitAsync(RawGrpc.CallLimit)).ID;
            }
            catch (RpcException e) when (e.StatusCode == GrpcStatusCode.ResourceExhausted && e.Status.Detail == "etcdserver: too many requests")
            {
                return 0; // the bounded inbox refused it
            }
        }));
        var granted = results.Where(id => id != 0).ToHashSet();
        Assert.IsTrue(granted.Count > 0);
        var leases = await channel.UnaryAsync(LeaseMethods.LeaseLeases, new Pb.LeaseLeasesRequest());
        Assert.IsTrue(granted.IsSubsetOf(leases.Leases.Select(l => l.ID)), "every granted lease is listed");
        await AssertStillServesAsync();
    }

    [TestMethod]
    public async Task ConnectionFlood_BeyondTheBound_IsClosed_AndTheMemberServesAfterwards()
    {
        var flood = new List<Socket>();
        try
        {
            var closed = 0;
            for (var i = 0; i < MaxClientConnections + 16; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Endpoint.Port));
                await socket.SendAsync(BadInputLimits.Http2Preface);
            }
            foreach (var socket in flood)
            {
                if (await BadInputLimits.IsClosedByServerAsync(socket))
                {
                    closed++;
                }
            }
            Assert.IsTrue(closed >= 16, $"{closed} of {flood.Count} connections were closed by the server");
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }
        await BadInputLimits.EventuallyAsync(AssertStillServesAsync);
    }
}
