using CurpStore.Curp;
using CurpStore.Store;

namespace CurpStore.Server.Hosting;

/// <summary>
/// The leader's lease timekeeping (etcd's lessor loop), in the host and on wall-clock time, never in the deterministic
/// core. Every <see cref="Interval"/> it looks at the core on the loop thread: on becoming leader (a new term) it
/// promotes the leases, extending them by an election timeout as etcd does; while leading it proposes a
/// <see cref="LeaseRevokeRequest"/> for each expired lease (a bounded number per turn, none twice while in flight) and
/// one <see cref="LeaseCheckpointRequest"/> with the checkpoints that are due; when leadership is lost it demotes.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    /// <summary>Revokes in flight at once (etcd revokes expired leases at a bounded rate too).</summary>
    public const int MaxRevokesInFlight = 64;

    /// <summary>Checkpoints per proposed batch (etcd's maxLeaseCheckpointBatchSize).</summary>
    public const int MaxCheckpointsPerBatch = 1_000;

    private readonly NodeHost host;
    private readonly EtcdStateMachine machine;
    private readonly long extendMs;
    private readonly Action<string> log;
    private readonly CancellationTokenSource stopping = new();
    private readonly HashSet<long> revoking = [];
    private readonly object gate = new();
    private ulong promotedTerm;
    private Task? loop;

    public LeaseKeeper(NodeHost host, EtcdStateMachine machine, long electionTimeoutMs, TimeSpan interval, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(electionTimeoutMs);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.machine = machine ?? throw new ArgumentNullException(nameof(machine));
        extendMs = electionTimeoutMs;
        Interval = interval;
        this.log = log ?? (_ => { });
    }

    public TimeSpan Interval { get; }

    /// <summary>The lease clock's time: monotonic milliseconds (the lease service reads the same clock).</summary>
    public static long NowMs() => Environment.TickCount64;

    public void Start()
    {
        if (loop is not null)
        {
            throw new InvalidOperationException("the lease keeper is already running");
        }
        loop = RunAsync(stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
        stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await TickAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidOperationException e)
                {
                    // The host's inbox is full or closed: skip this turn, the next one looks again.
                    log($"lease keeper skipped a turn: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>One turn: decide on the loop thread, propose from here (proposals go back through the inbox).</summary>
    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        var (expired, checkpoints) = await host.InvokeAsync(Decide, cancellationToken).ConfigureAwait(false);
        foreach (var id in expired)
        {
            _ = RevokeAsync(id, cancellationToken);
        }
        if (checkpoints.Count > 0)
        {
            _ = ProposeAsync(new LeaseCheckpointRequest { Checkpoints = checkpoints }, cancellationToken);
        }
    }

    private (IReadOnlyList<long> Expired, IReadOnlyList<LeaseCheckpoint> Checkpoints) Decide(CurpNode node)
    {
        if (node.Role != NodeRole.Leader)
        {
            if (promotedTerm != 0)
            {
                machine.DemoteLeases();
                promotedTerm = 0;
                log($"member {node.Id:x16} stopped keeping lease time (term {node.Term})");
            }
            return ([], []);
        }
        var now = NowMs();
        if (promotedTerm != node.Term)
        {
            machine.PromoteLeases(now, extendMs);
            promotedTerm = node.Term;
            log($"member {node.Id:x16} keeps lease time as leader of term {node.Term}");
        }
        List<long> expired;
        lock (gate)
        {
            var room = MaxRevokesInFlight - revoking.Count;
            expired = room <= 0 ? [] : [.. machine.ExpiredLeases(now, room + revoking.Count).Where(revoking.Add).Take(room)];
        }
        return (expired, machine.DueLeaseCheckpoints(now, MaxCheckpointsPerBatch));
    }

    private async Task RevokeAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            // Expiry is the members' own doing, never refused by auth (etcd's leader revokes with a root token).
            await ProposeAsync(new LeaseRevokeRequest { Id = id, Auth = RequestAuth.Member }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (gate)
            {
                revoking.Remove(id);
            }
        }
    }

    /// <summary>A failed proposal is only logged: a lease still expired is revoked again on a later turn.</summary>
    private async Task ProposeAsync(EtcdRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var completion = await host.ProposeAsync(id => new EtcdCommand(id, request), cancellationToken).ConfigureAwait(false);
            if (completion.Error != ProposeError.None)
            {
                log($"lease keeper: {request.GetType().Name} not decided ({completion.Error})");
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
