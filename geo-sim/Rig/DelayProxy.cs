using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CurpStore.Rig;

/// <summary>
/// One directed link of the WAN rig: a TCP proxy that holds every chunk it reads for the link's one-way delay (plus
/// jitter) before writing it on, in both directions of each proxied connection. The link can be cut and healed while
/// it runs.
/// </summary>
/// <remarks>
/// <para>
/// The kernel here has no netem, so delay is made in user space. Each direction of a connection has a reader and a
/// writer: the reader stamps each chunk with its arrival time and keeps reading while earlier chunks wait, so a
/// stream's throughput is not capped by the delay (only by <see cref="MaxChunksInFlight"/> chunks of at most
/// <see cref="ChunkBytes"/> per direction, the bound that gives back-pressure, as a TCP window would). A chunk is
/// never released before the one read before it, so jitter never reorders a connection's bytes.
/// </para>
/// <para>
/// A link carries the connections its source opens to its target (direction "forward") and their answers
/// ("backward"). Cutting the link's forward direction resets its open connections and refuses new ones (the listener
/// closes, so a connect gets ECONNREFUSED) until healed. Cutting its backward direction (what cutting the reverse
/// link does to this one) resets the open connections and drops what the target sends on new ones, as a one-way
/// partition would.
/// </para>
/// </remarks>
public sealed class DelayProxy : IAsyncDisposable
{
    /// <summary>Largest chunk read at once.</summary>
    public const int ChunkBytes = 64 * 1024;

    /// <summary>Chunks held per direction of a connection before its reader waits: at most 16 MiB in flight.</summary>
    public const int MaxChunksInFlight = 256;

    private readonly Lock gate = new();
    private readonly Random jitter;
    private readonly HashSet<ProxiedConnection> connections = [];
    private Socket? listener;
    private bool forwardCut;
    private bool backwardCut;
    private bool disposed;
    private long acceptedTotal;
    private long cutGeneration;

    /// <summary>Starts listening on <paramref name="listenOn"/> (port 0 picks a free one) and forwarding to
    /// <paramref name="target"/>.</summary>
    /// <param name="listenOn">Where the link's source connects (after DNAT in the rig).</param>
    /// <param name="target">Where the link leads.</param>
    /// <param name="delay">One-way delay applied to each direction.</param>
    /// <param name="seed">Seeds the jitter, so a run's draws can be replayed.</param>
    public DelayProxy(IPEndPoint listenOn, IPEndPoint target, LinkDelay delay, int seed)
    {
        ArgumentNullException.ThrowIfNull(listenOn);
        Target = target ?? throw new ArgumentNullException(nameof(target));
        Delay = delay ?? throw new ArgumentNullException(nameof(delay));
        jitter = new Random(seed);
        var socket = Listen(listenOn);
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
        StartAccepting(socket);
    }

    /// <summary>Where the proxy listens.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Where the proxy forwards to.</summary>
    public IPEndPoint Target { get; }

    /// <summary>The delay each direction applies.</summary>
    public LinkDelay Delay { get; }

    /// <summary>Whether new connections are refused and the link's source can send nothing.</summary>
    public bool ForwardCut
    {
        get
        {
            lock (gate)
            {
                return forwardCut;
            }
        }
    }

    /// <summary>Whether what the target sends back is dropped.</summary>
    public bool BackwardCut
    {
        get
        {
            lock (gate)
            {
                return backwardCut;
            }
        }
    }

    /// <summary>Connections open right now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (gate)
            {
                return connections.Count;
            }
        }
    }

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedTotal => Interlocked.Read(ref acceptedTotal);

    /// <summary>Cuts the forward direction: resets every open connection and refuses new ones until
    /// <see cref="Heal"/>.</summary>
    public void CutForward()
    {
        Socket? closing;
        lock (gate)
        {
            forwardCut = true;
            cutGeneration++;
            closing = listener;
            listener = null;
        }
        closing?.Dispose();
        ResetAll();
    }

    /// <summary>Cuts the backward direction: resets every open connection; on new ones what the target sends is
    /// dropped until <see cref="Heal"/>.</summary>
    public void CutBackward()
    {
        lock (gate)
        {
            backwardCut = true;
            cutGeneration++;
        }
        ResetAll();
    }

    /// <summary>Heals the forward direction: listens again on the same endpoint.</summary>
    /// <exception cref="SocketException">The endpoint was taken while the link was cut.</exception>
    public void HealForward()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (forwardCut)
            {
                StartAccepting(Listen(Endpoint));
                forwardCut = false;
            }
        }
    }

    /// <summary>Heals the backward direction: what the target sends is delivered again.</summary>
    public void HealBackward()
    {
        lock (gate)
        {
            backwardCut = false;
        }
    }

    /// <summary>Heals both directions.</summary>
    public void Heal()
    {
        HealForward();
        HealBackward();
    }

    /// <summary>Stops listening, resets every connection and waits for their pumps to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Socket? closing;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            closing = listener;
            listener = null;
        }
        closing?.Dispose();
        ResetAll();
        Task[] running;
        lock (gate)
        {
            running = [.. connections.Select(c => c.Ended.Task)];
        }
        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static Socket Listen(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // The same endpoint is bound again on heal, while reset connections may still hold it.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(512);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Closes a socket with an RST rather than a FIN, as a broken path looks to both ends.</summary>
    internal static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed
        }
        socket.Dispose();
    }

    private void StartAccepting(Socket socket)
    {
        listener = socket;
        var thread = new Thread(() =>
        {
            ThreadPriority.Raise();
            AcceptLoop(socket);
        })
        {
            IsBackground = true,
            Name = $"link {Endpoint}->{Target} accept",
        };
        thread.Start();
    }

    private void ResetAll()
    {
        ProxiedConnection[] open;
        lock (gate)
        {
            open = [.. connections];
        }
        foreach (var connection in open)
        {
            connection.Reset();
        }
    }

    private void AcceptLoop(Socket socket)
    {
        while (true)
        {
            Socket inbound;
            try
            {
                inbound = socket.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // cut or disposed: this listener is closed
            }
            Interlocked.Increment(ref acceptedTotal);
            long acceptedInGeneration;
            lock (gate)
            {
                acceptedInGeneration = cutGeneration;
            }
            var connecting = new Thread(() => Connect(inbound, acceptedInGeneration))
            {
                IsBackground = true,
                Name = $"link {Endpoint}->{Target} connect",
            };
            connecting.Start();
        }
    }

    private void Connect(Socket inbound, long acceptedInGeneration)
    {
        ThreadPriority.Raise();
        var outbound = new Socket(Target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        inbound.NoDelay = outbound.NoDelay = true;
        try
        {
            outbound.Connect(Target);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The target is down or unreachable: so is the link.
            Reset(inbound);
            outbound.Dispose();
            return;
        }
        var connection = new ProxiedConnection(inbound, outbound);
        lock (gate)
        {
            if (forwardCut || disposed || cutGeneration != acceptedInGeneration)
            {
                connection.Reset(); // cut while connecting: it was open when the cut came
                return;
            }
            connections.Add(connection);
            Run(connection);
        }
    }

    private void Run(ProxiedConnection connection)
    {
        var forward = new BlockingCollection<Chunk>(MaxChunksInFlight);
        var backward = new BlockingCollection<Chunk>(MaxChunksInFlight);
        StartPumpThread(connection, "read", () => Read(connection, connection.Client, forward, isBackward: false));
        StartPumpThread(connection, "write", () => WriteWhenDue(connection, forward, connection.Server));
        StartPumpThread(connection, "read back", () => Read(connection, connection.Server, backward, isBackward: true));
        StartPumpThread(connection, "write back", () => WriteWhenDue(connection, backward, connection.Client));
    }

    /// <summary>Each direction's reader and writer get a thread of their own at a raised priority.</summary>
    /// <remarks>The delay is only as exact as the moments a chunk is stamped and released. On a loaded machine a
    /// thread-pool continuation or a timer callback starts milliseconds late, which added 5 ms and more to a 30 ms link
    /// here (load average 25 on 2 cores); a blocked thread of a raised priority wakes within a fraction of a
    /// millisecond. Connections are few (a member holds a handful per peer), so the threads are too.</remarks>
    private void StartPumpThread(ProxiedConnection connection, string role, Action pump)
    {
        var thread = new Thread(() =>
        {
            ThreadPriority.Raise();
            try
            {
                pump();
            }
            finally
            {
                if (connection.PumpEnded())
                {
                    connection.Client.Dispose();
                    connection.Server.Dispose();
                    lock (gate)
                    {
                        connections.Remove(connection);
                    }
                    connection.Ended.TrySetResult();
                }
            }
        })
        {
            IsBackground = true,
            Name = $"link {Endpoint}->{Target} {role}",
        };
        thread.Start();
    }

    private long NextDueTimestamp(long arrival, ref long previousDue)
    {
        double delayMs;
        lock (gate)
        {
            delayMs = Delay.SampleMs(jitter);
        }
        var due = arrival + (long)(delayMs * Stopwatch.Frequency / 1000.0);
        previousDue = Math.Max(due, previousDue); // never overtake the chunk read before
        return previousDue;
    }

    /// <summary>One direction's reader: stamps each chunk with its due time and queues it, reading on while earlier
    /// chunks wait.</summary>
    private void Read(ProxiedConnection connection, Socket from, BlockingCollection<Chunk> queue, bool isBackward)
    {
        long previousDue = 0;
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                int read;
                try
                {
                    read = from.Receive(buffer, 0, ChunkBytes, SocketFlags.None);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    connection.EndOfStream(isBackward);
                    return;
                }
                if (isBackward && BackwardCut)
                {
                    ArrayPool<byte>.Shared.Return(buffer); // the way back is cut: lost
                    continue;
                }
                var due = NextDueTimestamp(Stopwatch.GetTimestamp(), ref previousDue);
                queue.Add(new Chunk(buffer, read, due), connection.Closing); // waits while the queue is full
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Reset(); // a reset on one side is passed on to the other
        }
        finally
        {
            queue.CompleteAdding();
        }
    }

    /// <summary>One direction's writer: writes each chunk when it is due, then passes the end of stream on.</summary>
    private static void WriteWhenDue(ProxiedConnection connection, BlockingCollection<Chunk> queue, Socket to)
    {
        var isBackward = to == connection.Client;
        try
        {
            foreach (var chunk in queue.GetConsumingEnumerable(connection.Closing))
            {
                try
                {
                    WaitUntil(chunk.DueTimestamp, connection.Closing);
                    to.Send(chunk.Buffer, 0, chunk.Length, SocketFlags.None); // a blocking send writes it all
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                }
            }
            if (connection.SawEndOfStream(isBackward))
            {
                to.Shutdown(SocketShutdown.Send); // pass the FIN on after the last byte
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Reset();
        }
    }

    /// <summary>Sleeps until <paramref name="dueTimestamp"/> (see <see cref="ThreadPriority.SleepMicroseconds"/>);
    /// a cut or reset ends the wait at the latest when the chunk is due.</summary>
    private static void WaitUntil(long dueTimestamp, CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), dueTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }
            ThreadPriority.SleepMicroseconds((long)Math.Ceiling(remaining.TotalMicroseconds));
        }
    }

    private readonly record struct Chunk(byte[] Buffer, int Length, long DueTimestamp);

    private sealed class ProxiedConnection(Socket client, Socket server)
    {
        private readonly CancellationTokenSource closing = new();
        private int reset;
        private int pumpsRunning = 4;
        private int endsOfStream;

        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        public CancellationToken Closing => closing.Token;

        /// <summary>Completed when all four pump threads have ended and the sockets are closed.</summary>
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Counts a pump thread out; true for the last one.</summary>
        public bool PumpEnded() => Interlocked.Decrement(ref pumpsRunning) == 0;

        /// <summary>Notes that a direction's reader reached the end of stream (the sender's FIN).</summary>
        public void EndOfStream(bool isBackward) => Interlocked.Or(ref endsOfStream, isBackward ? 2 : 1);

        /// <summary>Whether a direction's reader reached the end of stream.</summary>
        public bool SawEndOfStream(bool isBackward) => (Volatile.Read(ref endsOfStream) & (isBackward ? 2 : 1)) != 0;

        public void Reset()
        {
            if (Interlocked.Exchange(ref reset, 1) == 1)
            {
                return;
            }
            closing.Cancel();
            DelayProxy.Reset(Client);
            DelayProxy.Reset(Server);
        }
    }
}
