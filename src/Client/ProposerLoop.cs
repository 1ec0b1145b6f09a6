using System.Security.Cryptography;
using System.Threading.Channels;
using CurpStore.Curp;
using CurpStore.Store;

namespace CurpStore.Client;

/// <summary>
/// The client's CURP proposer and the one task that owns it. Everything reaches the proposer through one bounded
/// inbox (the members' messages, ticks from a timer, the callers' commands); each turn steps a batch of inputs, sends
/// what the proposer produced and hands decided commands back to their callers. This is the shape of the server's
/// <c>NodeHost</c> without a member of its own: every message goes over the network.
/// </summary>
internal sealed class ProposerLoop : IAsyncDisposable
{
    private const int MaxInputsPerTurn = 1_024;

    private readonly CurpClientOptions options;
    private readonly Proposer proposer;
    private readonly Action<Message> send;
    private readonly Channel<LoopInput> inbox;
    private readonly Dictionary<ProposeId, Operation> waiting = [];

    /// <summary>Writes that arrived while no session was open (bounded by <see cref="CurpClientOptions.MaxInflight"/>).</summary>
    private readonly Queue<Operation> awaitingSession = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly int sessionRefreshTicks;
    private Task? loop;
    private Task? ticker;
    private long ticks;
    private long lastWriteTick;
    private int writesInflight;
    private bool registering;
    private int outstanding;
    private ulong leaderHint;
    private ulong sessionId;
    private long droppedIncoming;

    public ProposerLoop(ulong proposerId, IEnumerable<ulong> members, CurpClientOptions options, Action<Message> send)
    {
        this.options = options;
        this.send = send;
        proposer = new Proposer(new ProposerConfig
        {
            NodeId = proposerId,
            Members = [.. members],
            Strict = options.StrictRevisions,
            RetryTicks = options.TicksOf(options.RetryInterval),
            MaxAttempts = options.MaxAttempts,
            MaxInflight = options.MaxInflight,
        });
        sessionRefreshTicks = options.TicksOf(options.SessionRefreshAfterIdle);
        inbox = Channel.CreateBounded<LoopInput>(new BoundedChannelOptions(options.InboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: a message is dropped, a call refused
        });
    }

    public ulong ProposerId => proposer.NodeId;

    /// <summary>The member the proposer last saw lead (0: none yet); refreshed after every turn.</summary>
    public ulong LeaderHint => Volatile.Read(ref leaderHint);

    /// <summary>The session the proposer's writes carry (0: none open); refreshed after every turn.</summary>
    public ulong SessionId => Volatile.Read(ref sessionId);

    /// <summary>Members' messages dropped: inbox full, or dropped on purpose by a test.</summary>
    public long DroppedIncoming => Interlocked.Read(ref droppedIncoming);

    public void Start()
    {
        loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        ticker = TickAsync(stopping.Token);
        _ = inbox.Writer.TryWrite(OpenSession.Instance);
    }

    /// <summary>A message from a member. Dropped when the inbox is full (the protocol re-sends).</summary>
    public void Deliver(Message message)
    {
        if (!inbox.Writer.TryWrite(new Incoming(message)))
        {
            Interlocked.Increment(ref droppedIncoming);
        }
    }

    /// <summary>Runs one command through the proposer: a write to every member, a linearizable read at the leader.</summary>
    /// <exception cref="EtcdException">ResourceExhausted when the in-flight bound is reached; DeadlineExceeded when
    /// <paramref name="timeout"/> passes first; Cancelled when the client is disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first. A write may still
    /// be applied: the proposer keeps it (same id) until the cluster decides it.</exception>
    public async Task<Completion> RunAsync(EtcdRequest request, bool read, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (stopping.IsCancellationRequested)
        {
            throw EtcdException.ClientClosing();
        }
        if (Interlocked.Increment(ref outstanding) > options.MaxInflight)
        {
            Interlocked.Decrement(ref outstanding);
            throw EtcdException.TooManyRequests();
        }
        try
        {
            var operation = new Operation(request, read);
            if (!inbox.Writer.TryWrite(operation))
            {
                throw stopping.IsCancellationRequested ? EtcdException.ClientClosing() : EtcdException.TooManyRequests();
            }
            using var deadline = timeout is { } t ? new CancellationTokenSource(t) : null;
            using var linked = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            try
            {
                return await operation.Completion.Task.WaitAsync(linked?.Token ?? cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (operation.Completion.Task.IsCompleted)
                {
                    return await operation.Completion.Task.ConfigureAwait(false); // decided just as the wait ended
                }
                operation.Abandon();
                if (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("the call was cancelled; a write may still be applied", cancellationToken);
                }
                throw EtcdException.DeadlineExceeded();
            }
        }
        finally
        {
            Interlocked.Decrement(ref outstanding);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        inbox.Writer.TryComplete();
        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (ticker is not null)
        {
            await ticker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        // The loop is gone: nothing else touches these now.
        while (inbox.Reader.TryRead(out var input))
        {
            (input as Operation)?.Completion.TrySetException(EtcdException.ClientClosing());
        }
        foreach (var operation in waiting.Values.Concat(awaitingSession))
        {
            operation.Completion.TrySetException(EtcdException.ClientClosing());
        }
        waiting.Clear();
        awaitingSession.Clear();
        stopping.Dispose();
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                // A full inbox skips a tick: the loop is behind, and ticks carry no data.
                inbox.Writer.TryWrite(Tick.Instance);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task RunAsync()
    {
        var reader = inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping.Token).ConfigureAwait(false))
            {
                for (var stepped = 0; stepped < MaxInputsPerTurn && reader.TryRead(out var input); stepped++)
                {
                    Handle(input);
                }
                Drain();
                Volatile.Write(ref leaderHint, proposer.LeaderHint);
                Volatile.Write(ref sessionId, proposer.ClientId);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // stopping
        }
    }

    private void Handle(LoopInput input)
    {
        switch (input)
        {
            case Incoming { Message: var message }:
                if (options.DropIncoming?.Invoke(message) == true)
                {
                    Interlocked.Increment(ref droppedIncoming);
                    return;
                }
                proposer.Step(message);
                break;
            case Tick:
                ticks++;
                proposer.Tick();
                break;
            case OpenSession:
                RegisterSession();
                break;
            case Operation operation:
                Start(operation);
                break;
        }
    }

    private void Start(Operation operation)
    {
        if (operation.Abandoned)
        {
            return; // cancelled before it was ever sent: it will never be applied
        }
        if (!operation.Read)
        {
            if (proposer.HasSession && writesInflight == 0 && ticks - lastWriteTick >= sessionRefreshTicks)
            {
                RegisterSession(); // idle long enough for the cluster to expire the session: open a fresh one first
            }
            if (!proposer.HasSession)
            {
                if (!registering)
                {
                    RegisterSession();
                }
                if (awaitingSession.Count >= options.MaxInflight)
                {
                    operation.Completion.TrySetResult(new Completion(default, null, CompletionPath.Slow, ProposeError.TooManyRequests));
                    return;
                }
                awaitingSession.Enqueue(operation);
                return;
            }
        }
        var command = new EtcdCommand(operation.Read ? proposer.NextReadId() : proposer.NextId(), operation.Request);
        if (!(operation.Read ? proposer.Read(command) : proposer.Propose(command)))
        {
            operation.Completion.TrySetResult(new Completion(command.Id, null, CompletionPath.Slow, ProposeError.TooManyRequests));
            return;
        }
        waiting[KeyOf(command.Id, operation.Read)] = operation;
        if (!operation.Read)
        {
            writesInflight++;
            lastWriteTick = ticks;
        }
    }

    /// <summary>Reads carry client id 0 and a sequence of their own: keep them apart from writes.</summary>
    private static ProposeId KeyOf(ProposeId id, bool read) => read ? new ProposeId(ulong.MaxValue, id.Sequence) : id;

    private void RegisterSession()
    {
        ulong nonce;
        do
        {
            nonce = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
        }
        while (nonce == 0);
        registering = true;
        proposer.RegisterSession(nonce);
    }

    /// <summary>Sends what the proposer produced and answers what it decided, until it has nothing left.</summary>
    private void Drain()
    {
        while (true)
        {
            if (registering && proposer.HasSession)
            {
                registering = false;
                lastWriteTick = ticks;
            }
            while (proposer.HasSession && awaitingSession.TryDequeue(out var operation))
            {
                Start(operation);
            }
            var messages = proposer.TakeMessages();
            foreach (var message in messages)
            {
                send(message);
            }
            var completions = proposer.TakeCompletions();
            foreach (var completion in completions)
            {
                Finish(completion);
            }
            if (messages.Count == 0 && completions.Count == 0)
            {
                return;
            }
        }
    }

    private void Finish(Completion completion)
    {
        var read = completion.Path == CompletionPath.Read;
        if (!read && completion.Error == ProposeError.SessionExpired && completion.Id.ClientId == proposer.ClientId)
        {
            RegisterSession(); // the caller learns its outcome is unknown; later writes get a new session
        }
        if (waiting.Remove(KeyOf(completion.Id, read), out var operation))
        {
            if (!read)
            {
                writesInflight--;
            }
            operation.Completion.TrySetResult(completion);
        }
    }

    private abstract class LoopInput;

    private sealed class Incoming(Message message) : LoopInput
    {
        public Message Message { get; } = message;
    }

    private sealed class Tick : LoopInput
    {
        public static readonly Tick Instance = new();
    }

    private sealed class OpenSession : LoopInput
    {
        public static readonly OpenSession Instance = new();
    }

    private sealed class Operation(EtcdRequest request, bool read) : LoopInput
    {
        private volatile bool abandoned;

        public EtcdRequest Request { get; } = request;

        public bool Read { get; } = read;

        public TaskCompletionSource<Completion> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The caller stopped waiting; if the loop has not proposed it yet, it never will.</summary>
        public bool Abandoned => abandoned;

        public void Abandon() => abandoned = true;
    }
}
