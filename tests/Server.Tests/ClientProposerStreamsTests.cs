using System.Collections.Concurrent;
using System.Globalization;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Hosting;
using CurpStore.Server.Transport;
using CurpStore.Wire;
using EnvelopeBatch = CurpStore.Rpc.CurpWire.EnvelopeBatch;
using W = CurpStore.Rpc.CurpWire;

namespace CurpStore.Server.Tests;

/// <summary>The routing and the bound of the client streams, with a fake host and a fake peer transport.</summary>
[TestClass]
public sealed class ClientProposerStreamsTests
{
    private const ulong MemberId = 1;
    private const ulong ProposerId = 77;

    private sealed class RecordingTransport : IPeerTransport
    {
        public ConcurrentQueue<Message> Sent { get; } = new();

        public void Send(Message message) => Sent.Enqueue(message);
    }

    /// <summary>A server with only the client streams, over a fake host and peer transport, and one stream bound to
    /// <see cref="ProposerId"/>.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly GrpcServer server = new();
        private GrpcChannel? channel;

        private Fixture(int queueCapacity)
        {
            Streams = new ClientProposerStreams(
                new WireCodec(new KvCommandCodec()), Peers, MemberId, new HashSet<ulong> { MemberId, 2 },
                message => { Delivered.Enqueue(message); return true; }, new ClientStreamOptions { QueueCapacity = queueCapacity });
            Streams.Register(server);
        }

        public ClientProposerStreams Streams { get; }

        public RecordingTransport Peers { get; } = new();

        public ConcurrentQueue<Message> Delivered { get; } = new();

        public AsyncDuplexStreamingCall<EnvelopeBatch, EnvelopeBatch> Call { get; private set; } = null!;

        public static async Task<Fixture> StartAsync(int queueCapacity)
        {
            var fixture = new Fixture(queueCapacity);
            await fixture.server.ListenAsync([new Uri("http://127.0.0.1:0")]);
            fixture.channel = new GrpcChannel(fixture.server.ListeningAddresses[0]);
            fixture.Call = fixture.channel.DuplexStreaming(CurpMethods.Connect, new CallOptions(
                Headers: new Metadata().Add(CurpMethods.ProposerIdHeader, ProposerId.ToString(CultureInfo.InvariantCulture)),
                Deadline: DateTime.UtcNow.AddSeconds(20)));
            var batch = new EnvelopeBatch();
            batch.Envelopes.Add(new W.Envelope { From = ProposerId, To = MemberId, RegisterSessionRequest = new W.RegisterSessionRequest { Nonce = 1 } });
            await fixture.Call.RequestStream.WriteAsync(batch);
            for (var i = 0; i < 400 && fixture.Delivered.IsEmpty; i++)
            {
                await Task.Delay(25);
            }
            Assert.IsInstanceOfType<RegisterSessionRequest>(fixture.Delivered.Single(), "the request reached the host");
            return fixture;
        }

        public async ValueTask DisposeAsync()
        {
            Call.Dispose();
            channel?.Dispose();
            await server.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task MessagesForAConnectedProposer_GoDownItsStream_AndTheRestToThePeers()
    {
        await using var fixture = await Fixture.StartAsync(queueCapacity: 100);
        var (streams, peers, call) = (fixture.Streams, fixture.Peers, fixture.Call);
        Assert.AreEqual(1, streams.ConnectedCount);

        streams.Send(new RegisterSessionResponse(MemberId, ProposerId, 1, 42, MemberId, ProposeError.None));
        streams.Send(new RegisterSessionResponse(MemberId, 3, 1, 43, MemberId, ProposeError.None));
        Assert.IsTrue(await call.ResponseStream.MoveNext());
        var answer = call.ResponseStream.Current.Envelopes.Single();
        Assert.AreEqual(42UL, answer.RegisterSessionResponse.ClientId);
        Assert.AreEqual(3UL, peers.Sent.Single().To, "a proposer without a stream here is the peer transport's business");
    }

    [TestMethod]
    public async Task AFullQueue_EndsTheStreamWithResourceExhausted_InsteadOfGrowing()
    {
        await using var fixture = await Fixture.StartAsync(queueCapacity: 4);
        var (streams, call) = (fixture.Streams, fixture.Call);
        // Far more than the queue holds, faster than one writer can drain it.
        for (var i = 0; i < 10_000 && streams.Overflows == 0; i++)
        {
            streams.Send(new RegisterSessionResponse(MemberId, ProposerId, (ulong)i, 42, MemberId, ProposeError.None));
        }
        Assert.AreEqual(1, streams.Overflows);
        var error = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext())
            {
                // read what was queued before the overflow
            }
        });
        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, error.StatusCode, error.Detail);
        StringAssert.Contains(error.Detail, "more than 4 messages queued");
        for (var i = 0; i < 400 && streams.ConnectedCount > 0; i++)
        {
            await Task.Delay(25);
        }
        Assert.AreEqual(0, streams.ConnectedCount, "the ended stream is no longer a route");
    }
}
