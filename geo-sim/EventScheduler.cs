namespace CurpStore.GeoSim;

/// <summary>
/// Single-threaded discrete-event loop over virtual time in microseconds.
/// </summary>
/// <remarks>
/// <para>
/// Everything in a simulation (message deliveries, timer ticks, client requests, faults) is an
/// event here, so a run is a pure function of its seed: no threads, no wall clock.
/// </para>
/// <para>
/// Events are ordered by (time, insertion sequence). A plain priority queue on time alone would
/// break ties in an unspecified order, and ties are common (zero jitter, equal link delays), so
/// the sequence number makes them run first-scheduled-first, identically on every run.
/// </para>
/// <para>
/// The queue is bounded (design principle: every queue has a bound). A runaway feedback loop, such
/// as a retry storm that schedules faster than it drains, then fails loudly instead of eating memory.
/// </para>
/// </remarks>
public sealed class EventScheduler
{
    /// <summary>Default bound on queued events.</summary>
    public const int DefaultMaxQueuedEvents = 10_000_000;

    private readonly PriorityQueue<Action, (long AtMicros, long Sequence)> _queue = new();
    private long _nextSequence;

    /// <summary>Creates an empty scheduler at virtual time 0.</summary>
    /// <param name="maxQueuedEvents">Most events that may wait at once; scheduling one more throws.</param>
    public EventScheduler(int maxQueuedEvents = DefaultMaxQueuedEvents)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxQueuedEvents);
        MaxQueuedEvents = maxQueuedEvents;
    }

    /// <summary>Current virtual time in microseconds. Only moves forward.</summary>
    public long Now { get; private set; }

    /// <summary>Bound on queued events given at construction.</summary>
    public int MaxQueuedEvents { get; }

    /// <summary>Events waiting to run.</summary>
    public int Pending => _queue.Count;

    /// <summary>Events run so far (a progress and cost figure for reports).</summary>
    public long Executed { get; private set; }

    /// <summary>Time of the next event in microseconds, or null when nothing is queued.</summary>
    public long? NextEventTime => _queue.TryPeek(out _, out var key) ? key.AtMicros : null;

    /// <summary>Queues <paramref name="action"/> to run at virtual time <paramref name="atMicros"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The time is in the past.</exception>
    /// <exception cref="InvalidOperationException">The queue already holds <see cref="MaxQueuedEvents"/> events.</exception>
    public void Schedule(long atMicros, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (atMicros < Now)
        {
            throw new ArgumentOutOfRangeException(
                nameof(atMicros), atMicros, $"cannot schedule in the past (now is {Now} µs)");
        }

        if (_queue.Count >= MaxQueuedEvents)
        {
            throw new InvalidOperationException(
                $"event queue bound exceeded: {_queue.Count} events already queued (bound {MaxQueuedEvents}) " +
                $"at virtual time {Now} µs; something schedules faster than the simulation drains " +
                "(raise the bound only if the workload really needs it)");
        }

        _queue.Enqueue(action, (atMicros, _nextSequence++));
    }

    /// <summary>Queues <paramref name="action"/> to run <paramref name="delayMicros"/> after <see cref="Now"/>.</summary>
    public void ScheduleAfter(long delayMicros, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delayMicros);
        if (delayMicros > long.MaxValue - Now)
        {
            throw new ArgumentOutOfRangeException(nameof(delayMicros), delayMicros, "virtual time would overflow");
        }

        Schedule(Now + delayMicros, action);
    }

    /// <summary>Runs the earliest event, advancing <see cref="Now"/> to its time.</summary>
    /// <returns>False when nothing was queued.</returns>
    public bool RunNext()
    {
        if (!_queue.TryDequeue(out var action, out var key))
        {
            return false;
        }

        Now = key.AtMicros;
        Executed++;
        action();
        return true;
    }

    /// <summary>
    /// Runs every event due at or before <paramref name="micros"/> (including ones those events
    /// schedule), then sets <see cref="Now"/> to <paramref name="micros"/>.
    /// </summary>
    /// <returns>How many events ran.</returns>
    public long RunUntil(long micros)
    {
        if (micros < Now)
        {
            throw new ArgumentOutOfRangeException(nameof(micros), micros, $"is before now ({Now} µs)");
        }

        long ran = 0;
        while (_queue.TryPeek(out _, out var key) && key.AtMicros <= micros)
        {
            RunNext();
            ran++;
        }

        Now = micros;
        return ran;
    }
}
