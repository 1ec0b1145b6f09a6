using System.Collections.Concurrent;
using System.Threading.Channels;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;
using CurpStore.Server.Hosting;
using CurpStore.Wire;

namespace CurpStore.Server.Transport;

/// <summary>
/// Sends the core's messages to other members (and to remote proposers through the member that hosts them) with one
/// gRPC <c>Curp/Deliver</c> call per batch. Each destination has a bounded queue and one sender loop: what the loop
/// finds queued goes out as one batch, with a bounded number of calls in flight (so batches may arrive out of order,
/// as a network may deliver them; the protocol allows it, and snapshot chunks, which must not, go alone); a full queue
/// drops the message (Raft and CURP retry what is lost) and counts it.
/// A failed call backs off exponentially; each change of a peer's reachability is logged once.
/// </summary>
public sealed class GrpcPeerTransport : IPeerTransport, IAsyncDisposable
{
    private readonly WireCodec codec;
    private readonly Func<ulong, Uri?> resolve;
    private readonly Action<string> log;
    private readonly TransportOptions options;
    private readonly PeerChannels channels;
    private readonly ConcurrentDictionary<Uri, Peer> peers = new();
    private readonly CancellationTokenSource stopping = new();

    public GrpcPeerTransport(WireCodec codec, Func<ulong, Uri?> resolve, TransportOptions? options = null, Action<string>? log = null, PeerChannels? channels = null)
    {
        this.channels = channels ?? PeerChannels.Plain;
        this.codec = codec;
        this.resolve = resolve;
        this.options = options ?? new TransportOptions();
        this.log = log ?? (_ => { });
    }

    /// <summary>Messages dropped because a destination's queue was full or its address unknown.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    private long dropped;

    public void Send(Message message)
    {
        var address = resolve(message.To);
        if (address is null)
        {
            Interlocked.Increment(ref dropped);
            return;
        }
        var peer = peers.GetOrAdd(address, a => new Peer(this, a));
        try
        {
            foreach (var envelope in codec.Encode(message))
            {
                if (!peer.Queue.Writer.TryWrite(envelope))
                {
                    Interlocked.Increment(ref dropped);
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // A snapshot whose file a newer snapshot replaced while the message waited: drop it like a lost message;
            // the leader sends its latest snapshot when the follower asks again. Never stop the member's loop.
            Interlocked.Increment(ref dropped);
            log($"dropped a message to {address}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        stopping.Cancel();
        foreach (var peer in peers.Values)
        {
            peer.Queue.Writer.TryComplete();
            await peer.Loop.ConfigureAwait(false);
            peer.Channel.Dispose();
        }
        stopping.Dispose();
    }

    private sealed class Peer
    {
        private readonly GrpcPeerTransport transport;
        private readonly Lock state = new();

        /// <summary>When the next batch may go after a failed call (exponential backoff); written by the calls.</summary>
        private DateTime retryAfter = DateTime.MinValue;
        private TimeSpan backoff;
        private bool reachable = true;

        public Peer(GrpcPeerTransport transport, Uri address)
        {
            this.transport = transport;
            Address = address;
            Queue = System.Threading.Channels.Channel.CreateBounded<Envelope>(new BoundedChannelOptions(transport.options.QueueCapacity)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the caller counts a drop
            });
            Channel = transport.channels.Open(address, new GrpcChannelOptions
            {
                MaxSendMessageSize = transport.options.MaxBatchBytes + (1 << 20),
                // A paused or vanished peer leaves the connection open: pings notice it and end the stream.
                KeepAlivePingDelay = transport.options.KeepAlivePingDelay,
                KeepAlivePingTimeout = transport.options.CallTimeout,
                KeepAlivePingWithoutCalls = true,
            });
            Loop = Task.Run(RunAsync);
        }

        public Uri Address { get; }

        public Channel<Envelope> Queue { get; }

        public GrpcChannel Channel { get; }

        public Task Loop { get; }

        private async Task RunAsync()
        {
            var token = transport.stopping.Token;
            var inFlight = new SemaphoreSlim(transport.options.MaxCallsInFlight, transport.options.MaxCallsInFlight);
            var calls = new List<Task>();
            try
            {
                while (await Queue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    TimeSpan wait;
                    lock (state)
                    {
                        wait = retryAfter - DateTime.UtcNow;
                    }
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, token).ConfigureAwait(false);
                    }
                    await inFlight.WaitAsync(token).ConfigureAwait(false);
                    var batch = TakeBatch();
                    if (batch.Envelopes.Count == 0)
                    {
                        inFlight.Release();
                        continue;
                    }
                    calls.RemoveAll(c => c.IsCompleted);
                    if (batch.Envelopes.Any(e => e.BodyCase == Envelope.BodyOneofCase.InstallSnapshot))
                    {
                        // A snapshot's chunks must arrive in order: such a batch goes alone, after every call before it.
                        await Task.WhenAll(calls).ConfigureAwait(false);
                        await SendAsync(batch, token).ConfigureAwait(false);
                        inFlight.Release();
                        continue;
                    }
                    calls.Add(SendThenReleaseAsync(batch, inFlight, token));
                }
                await Task.WhenAll(calls).ConfigureAwait(false);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                // stopping: a call in flight when the transport is disposed ends as cancelled, or finds its HTTP/2
                // stream already disposed; nothing sent at this point matters any more
            }
        }

        private async Task SendThenReleaseAsync(EnvelopeBatch batch, SemaphoreSlim inFlight, CancellationToken token)
        {
            try
            {
                await SendAsync(batch, token).ConfigureAwait(false);
            }
            finally
            {
                inFlight.Release();
            }
        }

        /// <summary>One call per batch, each with a deadline and an answer, so a peer that is gone, paused or restarted is
        /// noticed on the next batch. (A long-lived stream per peer was tried: it saved a round trip per batch but could
        /// go on accepting writes that never arrived after a peer restarted, and a restarted member did not catch up.)
        /// Up to <see cref="TransportOptions.MaxCallsInFlight"/> calls overlap: on a wide-area link one call at a time
        /// made each message wait for the previous batch's round trip.</summary>
        private async Task SendAsync(EnvelopeBatch batch, CancellationToken token)
        {
            try
            {
                await Channel.UnaryAsync(CurpMethods.Deliver, batch, new CallOptions(Deadline: DateTime.UtcNow + transport.options.CallTimeout, CancellationToken: token))
                    .ConfigureAwait(false);
                lock (state)
                {
                    if (!reachable)
                    {
                        transport.log($"peer {Address} is reachable again");
                        reachable = true;
                    }
                    backoff = transport.options.InitialBackoff;
                }
            }
            catch (RpcException e) when (!token.IsCancellationRequested)
            {
                Interlocked.Add(ref transport.dropped, batch.Envelopes.Count);
                lock (state)
                {
                    if (reachable)
                    {
                        transport.log($"peer {Address} is unreachable ({e.StatusCode}: {e.Detail}); retrying with backoff");
                        reachable = false;
                    }
                    backoff = backoff <= TimeSpan.Zero ? transport.options.InitialBackoff : backoff;
                    retryAfter = DateTime.UtcNow + backoff;
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, transport.options.MaxBackoff.Ticks));
                }
            }
        }

        private EnvelopeBatch TakeBatch()
        {
            var batch = new EnvelopeBatch();
            var bytes = 0;
            while (bytes < transport.options.MaxBatchBytes && batch.Envelopes.Count < transport.options.MaxBatchMessages
                && Queue.Reader.TryRead(out var envelope))
            {
                batch.Envelopes.Add(envelope);
                bytes += envelope.CalculateSize();
            }
            return batch;
        }
    }
}

public sealed record TransportOptions
{
    /// <summary>Envelopes queued per destination before new ones are dropped.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    public int MaxBatchMessages { get; init; } = 1_024;

    public int MaxBatchBytes { get; init; } = 4 << 20;

    /// <summary>Deliver calls to one peer that may be in flight at once (batches holding snapshot chunks go alone).</summary>
    public int MaxCallsInFlight { get; init; } = 64;

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle time after which the connection to a peer is pinged (HTTP/2 PING).</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>The server side of <c>Curp/Deliver</c>: decodes each envelope and hands the message to the host.</summary>
public sealed class CurpDeliveryService(WireCodec codec, Func<Message, bool> deliver, Action<string>? log = null)
{
    private readonly ConcurrentDictionary<ulong, SnapshotAssembler> assemblers = new();

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddUnaryMethod(CurpMethods.Deliver, (batch, context) =>
        {
            DeliverBatch(batch);
            return Task.FromResult(new BatchAck());
        });
    }

    private void DeliverBatch(EnvelopeBatch batch)
    {
        foreach (var envelope in batch.Envelopes)
        {
            Message? message;
            try
            {
                message = codec.Decode(envelope, assemblers.GetOrAdd(envelope.From, _ => new SnapshotAssembler()));
            }
            catch (FormatException e)
            {
                log?.Invoke($"dropped a malformed message from {envelope.From}: {e.Message}");
                throw new RpcException(GrpcStatusCode.InvalidArgument, $"malformed message: {e.Message}");
            }
            if (message is not null)
            {
                deliver(message);
            }
        }
    }
}
