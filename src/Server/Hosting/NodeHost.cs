using System.Collections.Immutable;
using System.Threading.Channels;
using System.Diagnostics;
using CurpStore.Curp;
using CurpStore.Server.Metrics;

namespace CurpStore.Server.Hosting;

/// <summary>
/// Runs one member: a single loop thread owns the <see cref="CurpNode"/>, its state machine and the host's own
/// <see cref="Proposer"/>. Everything reaches the loop through one bounded inbox; each turn the loop steps a batch of
/// inputs, then persists the core's <see cref="Ready"/> (durable before any of its messages leave), sends, advances,
/// and hands completed commands back to their callers. This is DESIGN §4's event loop; the simulator's
/// <c>geo-sim/Cluster/MemberHost</c> drives the same core the same way, in virtual time.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly HostOptions options;
    private readonly IStateMachine stateMachine;
    private readonly IMemberStorage storage;

    /// <summary>The index of the periodic snapshot the core is taking (set just before it does, cleared after), for the
    /// snapshot writer; null when the core takes one for any other reason, which gets an in-memory image.</summary>
    private ulong? snapshotIndex;
    private readonly IPeerTransport transport;
    private readonly Membership members;
    private readonly Channel<HostInput> inbox;
    private readonly Dictionary<ProposeId, Waiting> waiting = [];

    /// <summary>Writes waiting for this host's client session to open (bounded by the inbox capacity).</summary>
    private readonly Queue<Waiting> awaitingSession = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Action<string> log;
    private readonly MemberMetrics? metrics;
    private readonly Action<string>? debugLog;
    private CurpNode node = null!;
    private Proposer proposer = null!;
    private Task? loop;
    private Task? ticker;
    private ulong registrationNonce;

    /// <summary>Client requests offered and not yet answered (any thread adds, the loop's answers take away).</summary>
    private int pendingRequests;

    /// <param name="appliedObserver">Told on the loop thread about every applied command and restored snapshot (the
    /// watch hub); null when nobody listens.</param>
    /// <param name="metrics">Counts completions by path, failures, leader changes and what the core reports; null
    /// for none.</param>
    /// <param name="debugLog">Gets one line per completed write (its id, path and latency); null for none (it runs on
    /// the loop thread, so only at debug level).</param>
    /// <param name="snapshotWriter">Takes the image of the periodic snapshot at an index straight to storage and returns
    /// what the core keeps instead (the file); null lets the state machine capture an image in memory, which the storage
    /// writes when it persists the snapshot.</param>
    public NodeHost(
        HostOptions options, Membership members, IStateMachine stateMachine, IMemberStorage storage, IPeerTransport transport,
        Action<string>? log = null, IAppliedStateObserver? appliedObserver = null, MemberMetrics? metrics = null, Action<string>? debugLog = null,
        Func<ulong, IStateSnapshot>? snapshotWriter = null)
    {
        this.metrics = metrics;
        this.debugLog = debugLog;
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        this.members = members;
        this.stateMachine = appliedObserver is null && snapshotWriter is null
            ? stateMachine
            : new ObservedStateMachine(stateMachine, appliedObserver,
                snapshotWriter is null ? null : () => snapshotIndex is { } index ? snapshotWriter(index) : stateMachine.TakeSnapshot());
        this.storage = storage;
        this.transport = transport;
        this.log = log ?? (_ => { });
        inbox = Channel.CreateBounded<HostInput>(new BoundedChannelOptions(options.InboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; callers turn that into TooManyRequests
        });
    }

    public ulong NodeId => options.Node.NodeId;

    public ulong ProposerId => options.ProposerId;

    /// <summary>Called on the loop thread, right after a turn, with each new configuration of the core (it takes effect
    /// when appended) and once at start; keep it short.</summary>
    public Action<Membership>? MembershipChanged { get; init; }

    /// <summary>A snapshot of the core's state, refreshed by the loop after every turn (safe to read from any thread).</summary>
    public HostStatus Status { get; private set; } = HostStatus.Unknown;

    /// <summary>Restores the core from storage and starts the loop and the ticker.</summary>
    public void Start()
    {
        if (loop is not null)
        {
            throw new InvalidOperationException("the host is already running");
        }
        node = new CurpNode(options.Node, members, stateMachine, storage.Load());
        proposer = new Proposer(new ProposerConfig
        {
            NodeId = options.ProposerId,
            Members = [.. members.Voters],
            Strict = options.StrictRevisions,
            FastPath = options.FastPath,
            RetryTicks = options.ProposerRetryTicks,
        });
        RefreshStatus();
        loop = Task.Factory.StartNew(RunLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        ticker = TickAsync(stopping.Token);
        log($"member {NodeId} started: term {node.Term}, applied {node.AppliedIndex}, last index {node.LastIndex}");
    }

    /// <summary>Delivers a message from the network. Returns false when the inbox is full (the message is dropped;
    /// the protocol retries).</summary>
    public bool Deliver(Message message) => inbox.Writer.TryWrite(new HostInput.FromNetwork(message));

    /// <summary>Proposes a write on behalf of a client: the host is its CURP proposer. Completes on the first path that
    /// decides it (fast, commit notice, slow) or with an error.</summary>
    public Task<Completion> ProposeAsync(Func<ProposeId, ICommand> buildCommand, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buildCommand);
        var request = new HostInput.Propose(buildCommand, new TaskCompletionSource<Completion>(TaskCreationOptions.RunContinuationsAsynchronously));
        return Enqueue(request, request.Completion, cancellationToken);
    }

    /// <summary>A linearizable read through the leader's ReadIndex.</summary>
    public Task<Completion> ReadAsync(Func<ProposeId, ICommand> buildCommand, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buildCommand);
        var request = new HostInput.Read(buildCommand, new TaskCompletionSource<Completion>(TaskCreationOptions.RunContinuationsAsynchronously));
        return Enqueue(request, request.Completion, cancellationToken);
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread with the core (for admin operations such as
    /// membership changes, leadership transfer, serializable reads).</summary>
    public Task<T> InvokeAsync<T>(Func<CurpNode, T> action, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!inbox.Writer.TryWrite(new HostInput.Invoke(n =>
        {
            try
            {
                completion.TrySetResult(action(n));
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        })))
        {
            return Task.FromException<T>(new HostInboxFullException(NodeId));
        }
        return completion.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        stopping.Cancel();
        inbox.Writer.TryComplete();
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
        if (ticker is not null)
        {
            await ticker.ConfigureAwait(false);
        }
        stopping.Dispose();
    }

    /// <summary>Client requests offered and not yet answered (at most <see cref="HostOptions.MaxPendingRequests"/>).</summary>
    public int PendingRequests => Volatile.Read(ref pendingRequests);

    /// <summary>Client requests pending at most (<see cref="HostOptions.MaxPendingRequests"/>).</summary>
    public int MaxPendingRequests => options.MaxPendingRequests;

    private Task<Completion> Enqueue(HostInput input, TaskCompletionSource<Completion> completion, CancellationToken cancellationToken)
    {
        // Over the bound the request is refused before it takes any room, as etcd refuses when its apply lags: the
        // caller gets "too many requests" at once instead of a place at the end of a long queue.
        if (Interlocked.Increment(ref pendingRequests) > options.MaxPendingRequests || !inbox.Writer.TryWrite(input))
        {
            Interlocked.Decrement(ref pendingRequests);
            if (input is HostInput.Propose)
            {
                metrics?.Failed();
            }
            return Task.FromResult(new Completion(default, null, CompletionPath.Slow, ProposeError.TooManyRequests));
        }
        return cancellationToken.CanBeCanceled ? completion.Task.WaitAsync(cancellationToken) : completion.Task;
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                // A full inbox skips a tick: the loop is behind, and ticks carry no data.
                inbox.Writer.TryWrite(HostInput.Tick.Instance);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task RunLoopAsync()
    {
        var reader = inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping.Token).ConfigureAwait(false))
            {
                for (var stepped = 0; stepped < options.MaxInputsPerBatch && reader.TryRead(out var input); stepped++)
                {
                    Handle(input);
                }
                Drain();
                RefreshStatus();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            FailWaiting(ProposeError.NotLeader);
        }
    }

    private void Handle(HostInput input)
    {
        switch (input)
        {
            case HostInput.FromNetwork { Message: var message }:
                if (message.To == options.ProposerId)
                {
                    proposer.Step(message);
                }
                else
                {
                    node.Step(message);
                }
                break;
            case HostInput.Tick:
                node.Tick();
                proposer.Tick();
                EnsureSession();
                if (node.AppliedIndex - (node.LatestSnapshot?.Index ?? 0) >= options.SnapshotEveryEntries)
                {
                    snapshotIndex = node.AppliedIndex; // the index of the snapshot the core takes now
                    try
                    {
                        node.CompactLog();
                    }
                    finally
                    {
                        snapshotIndex = null;
                    }
                }
                break;
            case HostInput.Propose propose:
                metrics?.Started(read: false);
                StartCommand(propose.Build, propose.Completion, read: false, Stopwatch.GetTimestamp(), retried: false);
                break;
            case HostInput.Read read:
                metrics?.Started(read: true);
                StartCommand(read.Build, read.Completion, read: true, Stopwatch.GetTimestamp(), retried: false);
                break;
            case HostInput.Invoke invoke:
                invoke.Action(node);
                break;
        }
    }

    /// <param name="startedTimestamp">When the command entered the loop (<see cref="Stopwatch"/>), for its latency.</param>
    /// <param name="retried">Whether this write was already refused once for an expired session.</param>
    private void StartCommand(Func<ProposeId, ICommand> build, TaskCompletionSource<Completion> completion, bool read, long startedTimestamp, bool retried)
    {
        var caller = new Waiting(completion, read, startedTimestamp, read ? null : build, retried);
        if (!read && !proposer.HasSession)
        {
            EnsureSession();
            if (awaitingSession.Count >= options.InboxCapacity)
            {
                Complete(caller, new Completion(default, null, CompletionPath.Slow, ProposeError.TooManyRequests));
                return;
            }
            awaitingSession.Enqueue(caller);
            return;
        }
        var command = build(read ? proposer.NextReadId() : proposer.NextId());
        var accepted = read ? proposer.Read(command) : proposer.Propose(command);
        if (!accepted)
        {
            Complete(caller, new Completion(command.Id, null, CompletionPath.Slow, ProposeError.TooManyRequests));
            return;
        }
        waiting[read ? ReadKey(command.Id) : command.Id] = caller;
    }

    private void Complete(Waiting caller, Completion completion)
    {
        var elapsed = Stopwatch.GetElapsedTime(caller.StartedTimestamp);
        metrics?.Completed(completion, caller.Read, elapsed);
        if (debugLog is not null && !caller.Read)
        {
            debugLog(completion.Succeeded
                ? $"write {completion.Id} committed on the {MemberMetrics.PathLabel(completion.Path)} path in {elapsed.TotalMilliseconds:F1} ms"
                : $"write {completion.Id} failed: {completion.Error} after {elapsed.TotalMilliseconds:F1} ms");
        }
        Interlocked.Decrement(ref pendingRequests);
        caller.Completion.TrySetResult(completion);
    }

    /// <summary>Reads use client id 0 and their own sequence; keep them apart from writes in the waiting table.</summary>
    private static ProposeId ReadKey(ProposeId id) => new(ulong.MaxValue, id.Sequence);

    private void EnsureSession()
    {
        if (!proposer.HasSession && registrationNonce == 0)
        {
            RegisterSession();
        }
    }

    private void RegisterSession()
    {
        // A nonce distinct from this proposer's earlier ones: the term and last index only grow.
        registrationNonce = ((node.Term + 1) << 40) ^ (node.LastIndex + 1) ^ options.ProposerId;
        proposer.RegisterSession(registrationNonce);
    }

    private void StartCommandsAwaitingSession()
    {
        while (proposer.HasSession && awaitingSession.TryDequeue(out var awaiting))
        {
            StartCommand(awaiting.Build!, awaiting.Completion, read: false, awaiting.StartedTimestamp, awaiting.Retried);
        }
    }

    /// <summary>Persist, then send (a leader's appends first), then advance, until the core and the proposer have nothing left to do.</summary>
    private void Drain()
    {
        while (true)
        {
            var progressed = false;
            foreach (var message in proposer.TakeMessages())
            {
                Route(message);
                progressed = true;
            }
            if (node.HasReady)
            {
                var ready = node.Ready();
                // A leader's appends leave before its own write, so its fsync overlaps the followers' (Raft thesis
                // 10.2.1; etcd sends a leader's messages before saving too). Safe: this thread persists the batch
                // before it steps anything else, so no follower's answer is counted before the leader's copy is
                // durable. Every other message (votes, acks, witness promises, answers) still waits for the write.
                foreach (var message in ready.Messages)
                {
                    if (message is AppendRequest)
                    {
                        Route(message);
                    }
                }
                storage.Persist(ready);
                foreach (var message in ready.Messages)
                {
                    if (message is not AppendRequest)
                    {
                        Route(message);
                    }
                }
                node.Advance(ready);
                if (ready.Snapshot is { } snapshot && storage.PersistedImage(snapshot) is { } stored)
                {
                    node.ReplaceSnapshotState(snapshot.Index, stored); // the file, not a second copy of the store in memory
                }
                progressed = true;
            }
            StartCommandsAwaitingSession();
            foreach (var completion in proposer.TakeCompletions())
            {
                var expiredSession = completion.Error == ProposeError.SessionExpired;
                if (expiredSession && completion.Id.ClientId == proposer.ClientId)
                {
                    // The leader expires a session idle for SessionIdleTicks (a member whose clients paused) and refuses
                    // its writes. Such a write was never executed and never will be (its session is closed everywhere),
                    // so it is proposed again, once, under a new session: the caller sees a write, not the pause.
                    RegisterSession();
                }
                var key = completion.Path == CompletionPath.Read ? ReadKey(completion.Id) : completion.Id;
                if (!waiting.Remove(key, out var caller))
                {
                    continue;
                }
                if (expiredSession && caller is { Build: not null, Retried: false } && awaitingSession.Count < options.InboxCapacity)
                {
                    awaitingSession.Enqueue(caller with { Retried = true });
                    continue;
                }
                Complete(caller, completion);
            }
            if (!progressed)
            {
                return;
            }
        }
    }

    /// <summary>Messages between the host's own proposer and its own member never touch the network.</summary>
    private void Route(Message message)
    {
        if (message.To == NodeId)
        {
            node.Step(message);
        }
        else if (message.To == options.ProposerId)
        {
            proposer.Step(message);
        }
        else
        {
            transport.Send(message);
        }
    }

    private void FailWaiting(ProposeError error)
    {
        foreach (var caller in waiting.Values.Concat(awaitingSession))
        {
            Complete(caller, new Completion(default, null, CompletionPath.Slow, error));
        }
        waiting.Clear();
        awaitingSession.Clear();
    }

    private long snapshotsInstalledLogged;
    private ulong leaderLogged;

    private Membership? membershipSeen;

    private void RefreshStatus()
    {
        if (!ReferenceEquals(node.Members, membershipSeen))
        {
            membershipSeen = node.Members;
            // The host's own proposer sends every write to the voters of the current configuration.
            proposer.UpdateMembers([.. node.Members.Voters]);
            log($"member {NodeId:x16}: configuration {node.Members} (index {node.MembershipIndex})");
            MembershipChanged?.Invoke(node.Members);
        }
        // One log line per change an operator cares about: who leads, and a snapshot arriving from the leader.
        if (node.LeaderId != leaderLogged)
        {
            leaderLogged = node.LeaderId;
            if (leaderLogged != 0)
            {
                metrics?.LeaderChanged();
            }
            log(leaderLogged == 0 ? $"member {NodeId:x16} lost its leader (term {node.Term})" : $"member {NodeId:x16} follows leader {leaderLogged:x16} (term {node.Term})");
        }
        if (node.Counters.SnapshotsInstalled != snapshotsInstalledLogged)
        {
            snapshotsInstalledLogged = node.Counters.SnapshotsInstalled;
            log($"member {NodeId:x16} installed a snapshot from the leader at index {node.AppliedIndex}");
        }
        Status = CreateStatus();
        metrics?.Publish(NodeId, node.LeaderId, node.CommitIndex, node.AppliedIndex, node.Counters);
    }

    private HostStatus CreateStatus() => new HostStatus(
        node.Role, node.Term, node.LeaderId, node.CommitIndex, node.AppliedIndex, node.LastIndex, proposer.HasSession, [.. node.Members.Voters])
    {
        Members = node.Members,
        MembershipIndex = node.MembershipIndex,
    };

    /// <summary>A caller waiting for its command, with when the command entered the loop; a write keeps how to build its
    /// command (for a new id under a new session) and whether it was proposed again already.</summary>
    private readonly record struct Waiting(TaskCompletionSource<Completion> Completion, bool Read, long StartedTimestamp, Func<ProposeId, ICommand>? Build, bool Retried);

    private abstract record HostInput
    {
        public sealed record FromNetwork(Message Message) : HostInput;

        public sealed record Propose(Func<ProposeId, ICommand> Build, TaskCompletionSource<Completion> Completion) : HostInput;

        public sealed record Read(Func<ProposeId, ICommand> Build, TaskCompletionSource<Completion> Completion) : HostInput;

        public sealed record Invoke(Action<CurpNode> Action) : HostInput;

        public sealed record Tick : HostInput
        {
            public static readonly Tick Instance = new();
        }
    }
}

/// <summary>The host's inbox refused an input: the loop is behind (or stopped). Callers may retry later.</summary>
public sealed class HostInboxFullException(ulong nodeId) : InvalidOperationException($"member {nodeId}: inbox full");

/// <summary>What a host last saw of its core (for status endpoints, logs and tests).</summary>
public sealed record HostStatus(
    NodeRole Role, ulong Term, ulong LeaderId, ulong CommitIndex, ulong AppliedIndex, ulong LastIndex, bool HasSession, ImmutableArray<ulong> Voters)
{
    public static HostStatus Unknown { get; } = new(NodeRole.Follower, 0, 0, 0, 0, 0, false, []);

    /// <summary>The core's configuration (voters, learners, attributes).</summary>
    public Membership Members { get; init; } = Membership.Of([]);

    /// <summary>The log index of the entry that set <see cref="Members"/> (0: the bootstrap configuration).</summary>
    public ulong MembershipIndex { get; init; }

    /// <summary>This member was removed from the cluster and has applied its removal (etcd stops such a member).</summary>
    public bool IsRemoved(ulong self) => MembershipIndex > 0 && AppliedIndex >= MembershipIndex && !Members.Contains(self);
}
