using System.Globalization;
using System.Threading.Channels;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;
using CurpStore.Wire;

namespace CurpStore.Client;

/// <summary>
/// The proposer's line to one member: a <c>Curp/Connect</c> stream on the member's client URL, bound to the proposer's
/// id. Messages for the member wait in a bounded queue and go up in batches; the member's messages come down and are
/// handed to the proposer's loop. A broken stream is reopened with exponential backoff; while it is down, messages
/// for the member are dropped (the proposer re-sends whatever matters).
/// </summary>
internal sealed class MemberConnection : IAsyncDisposable
{
    private const int MaxBatchMessages = 1_024;
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(50);

    private readonly ulong proposerId;
    private readonly WireCodec codec;
    private readonly Action<Message> deliver;
    private readonly CurpClientOptions options;
    private readonly Channel<Message> outbound;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private volatile bool accepting = true;
    private long dropped;

    public MemberConnection(ulong memberId, GrpcChannel channel, ulong proposerId, WireCodec codec, Action<Message> deliver, CurpClientOptions options)
    {
        MemberId = memberId;
        Channel = channel;
        this.proposerId = proposerId;
        this.codec = codec;
        this.deliver = deliver;
        this.options = options;
        outbound = System.Threading.Channels.Channel.CreateBounded<Message>(new BoundedChannelOptions(options.StreamQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the message is dropped and counted
        });
        loop = Task.Run(RunAsync);
    }

    public ulong MemberId { get; }

    public GrpcChannel Channel { get; }

    /// <summary>Messages dropped: queue full or stream down.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    public void Send(Message message)
    {
        if (!accepting || !outbound.Writer.TryWrite(message))
        {
            Interlocked.Increment(ref dropped);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        outbound.Writer.TryComplete();
        await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var backoff = InitialBackoff;
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            accepting = true;
            var received = false;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
            var headers = new Metadata().Add(CurpMethods.ProposerIdHeader, proposerId.ToString(CultureInfo.InvariantCulture));
            using var call = Channel.DuplexStreaming(CurpMethods.Connect, new CallOptions(Headers: headers, CancellationToken: attempt.Token));
            var receiving = ReceiveAsync(call.ResponseStream, () => received = true, attempt.Token);
            var sending = SendAsync(call.RequestStream, attempt.Token);
            try
            {
                await await Task.WhenAny(receiving, sending).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException or InvalidOperationException or FormatException)
            {
                // The member is down, restarting or ended the stream; reconnect below.
            }
            accepting = false;
            await attempt.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(receiving, sending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            while (outbound.Reader.TryRead(out _))
            {
                Interlocked.Increment(ref dropped); // stale by the time the stream is back: the proposer re-sends
            }
            backoff = received ? InitialBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxReconnectBackoff.Ticks));
            try
            {
                await Task.Delay(backoff, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendAsync(IClientStreamWriter<EnvelopeBatch> requests, CancellationToken cancellationToken)
    {
        var reader = outbound.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var batch = new EnvelopeBatch();
            for (var taken = 0; taken < MaxBatchMessages && reader.TryRead(out var message); taken++)
            {
                batch.Envelopes.AddRange(codec.Encode(message));
            }
            await requests.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        await requests.CompleteAsync().ConfigureAwait(false);
    }

    private async Task ReceiveAsync(IAsyncStreamReader<EnvelopeBatch> responses, Action onReceived, CancellationToken cancellationToken)
    {
        var snapshots = new SnapshotAssembler(maxSnapshotBytes: 0); // members send proposers no snapshots
        while (await responses.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            onReceived();
            foreach (var envelope in responses.Current.Envelopes)
            {
                // Only what this member says to this proposer; anything else on the stream is a server's mistake.
                if (envelope.To != proposerId || envelope.From != MemberId)
                {
                    continue;
                }
                if (codec.Decode(envelope, snapshots) is { } message)
                {
                    deliver(message);
                }
            }
        }
    }
}
