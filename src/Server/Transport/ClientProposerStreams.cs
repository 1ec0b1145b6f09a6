using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;
using CurpStore.Server.Hosting;
using CurpStore.Wire;

namespace CurpStore.Server.Transport;

/// <summary>
/// The member's side of <c>Curp/Connect</c> on the client URL: external proposers (the .NET client) open one stream
/// per member, bound to their proposer id by the <see cref="CurpMethods.ProposerIdHeader"/> request header. Their
/// requests are stepped into the core like peer messages (through the host's bounded inbox); as the host's transport,
/// this class sends every core message addressed to a connected proposer down that proposer's stream and everything
/// else on to the peer transport.
/// </summary>
/// <remarks>A client cannot impersonate a member: the bound id may be no member's id and no member host's proposer id,
/// and every envelope on the stream must come from the bound id, be addressed to this member and be a proposer's
/// request. A violation ends the stream with PERMISSION_DENIED or INVALID_ARGUMENT. A newer stream for the same id
/// replaces the older one (a client that reconnects before the member noticed its old stream died).</remarks>
public sealed class ClientProposerStreams(
    WireCodec codec, IPeerTransport peers, ulong memberId, IReadOnlySet<ulong> reservedIds, Func<Message, bool> deliver,
    ClientStreamOptions? options = null, Action<string>? log = null) : IPeerTransport
{
    private readonly ClientStreamOptions options = options ?? new ClientStreamOptions();
    private readonly ConcurrentDictionary<ulong, ClientStream> streams = new();

    /// <summary>Proposer ids with a live stream to this member.</summary>
    public int ConnectedCount => streams.Count;

    /// <summary>Streams ended because their queue was full.</summary>
    public long Overflows => Interlocked.Read(ref overflows);

    private long overflows;

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddDuplexStreamingMethod(CurpMethods.Connect, ConnectAsync);
    }

    public void Send(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!streams.TryGetValue(message.To, out var stream))
        {
            peers.Send(message);
            return;
        }
        foreach (var envelope in codec.Encode(message))
        {
            if (!stream.Queue.Writer.TryWrite(envelope))
            {
                Interlocked.Increment(ref overflows);
                stream.Queue.Writer.TryComplete(new RpcException(
                    GrpcStatusCode.ResourceExhausted,
                    $"curp client stream: more than {options.QueueCapacity} messages queued for proposer {message.To}; the client reads too slowly"));
                return;
            }
        }
    }

    private async Task ConnectAsync(IAsyncStreamReader<EnvelopeBatch> requests, IServerStreamWriter<EnvelopeBatch> responses, ServerCallContext context)
    {
        var proposerId = BoundProposerId(context.RequestHeaders);
        var stream = new ClientStream(options.QueueCapacity);
        streams.AddOrUpdate(proposerId, stream, (_, older) =>
        {
            older.Queue.Writer.TryComplete(new RpcException(GrpcStatusCode.Aborted, $"a newer stream of proposer {proposerId} replaced this one"));
            return stream;
        });
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var writing = WriteAsync(stream, responses, ending.Token);
        var reading = ReadAsync(proposerId, requests, ending.Token);
        try
        {
            // Whichever side ends first ends the call: the client closed its requests, broke a rule, or the queue was
            // closed by an overflow or a newer stream. Its failure is what the client sees.
            await await Task.WhenAny(reading, writing).ConfigureAwait(false);
        }
        finally
        {
            streams.TryRemove(KeyValuePair.Create(proposerId, stream));
            stream.Queue.Writer.TryComplete();
            await ending.CancelAsync().ConfigureAwait(false);
            // The other side ends by cancellation; the call's outcome was decided above.
            await Task.WhenAll(reading, writing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private ulong BoundProposerId(Metadata headers)
    {
        var text = headers.GetValue(CurpMethods.ProposerIdHeader);
        if (text is null || !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var proposerId) || proposerId == 0)
        {
            throw new RpcException(GrpcStatusCode.InvalidArgument, $"curp client stream: the {CurpMethods.ProposerIdHeader} header must be a non-zero decimal id");
        }
        if (proposerId == memberId || reservedIds.Contains(proposerId))
        {
            throw new RpcException(GrpcStatusCode.PermissionDenied, $"curp client stream: proposer id {proposerId} belongs to a member");
        }
        return proposerId;
    }

    private async Task ReadAsync(ulong proposerId, IAsyncStreamReader<EnvelopeBatch> requests, CancellationToken cancellationToken)
    {
        var snapshots = new SnapshotAssembler(maxSnapshotBytes: 0); // proposers send no snapshots; checked below anyway
        while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            foreach (var envelope in requests.Current.Envelopes)
            {
                if (envelope.From != proposerId)
                {
                    throw new RpcException(GrpcStatusCode.PermissionDenied, $"curp client stream: a message from {envelope.From} on the stream of proposer {proposerId}");
                }
                if (envelope.To != memberId)
                {
                    throw new RpcException(GrpcStatusCode.InvalidArgument, $"curp client stream: a message for {envelope.To} sent to member {memberId}");
                }
                if (!CurpMethods.IsProposerRequest(envelope))
                {
                    throw new RpcException(GrpcStatusCode.PermissionDenied, $"curp client stream: a proposer may not send {envelope.BodyCase}");
                }
                Message? message;
                try
                {
                    message = codec.Decode(envelope, snapshots);
                }
                catch (FormatException e)
                {
                    throw new RpcException(GrpcStatusCode.InvalidArgument, $"malformed message: {e.Message}");
                }
                if (message is not null && !deliver(message))
                {
                    log?.Invoke($"member {memberId:x16}: inbox full, dropped a message of proposer {proposerId}"); // the proposer retries
                }
            }
        }
    }

    private async Task WriteAsync(ClientStream stream, IServerStreamWriter<EnvelopeBatch> responses, CancellationToken cancellationToken)
    {
        var reader = stream.Queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var batch = new EnvelopeBatch();
            while (batch.Envelopes.Count < options.MaxBatchMessages && reader.TryRead(out var envelope))
            {
                batch.Envelopes.Add(envelope);
            }
            await responses.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        await reader.Completion.ConfigureAwait(false); // rethrows the overflow or replacement that closed the queue
    }

    private sealed class ClientStream(int capacity)
    {
        public Channel<Envelope> Queue { get; } = Channel.CreateBounded<Envelope>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the stream is ended, never grown
        });
    }
}

public sealed record ClientStreamOptions
{
    /// <summary>Envelopes queued for one client stream; one more ends the stream (RESOURCE_EXHAUSTED).</summary>
    public int QueueCapacity { get; init; } = 16_384;

    /// <summary>Envelopes written down the stream in one message.</summary>
    public int MaxBatchMessages { get; init; } = 1_024;
}
