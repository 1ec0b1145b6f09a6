namespace CurpStore.Rpc;

/// <summary>
/// Bounds the calls of some methods in flight at once on a <see cref="GrpcServer"/>, from the moment their headers are
/// valid (before the request is read or decoded) to the moment their status is sent. A call beyond the bound waits for
/// a place, in arrival order, at most <see cref="MaxWait"/> and with at most <see cref="MaxWaiting"/> calls waiting;
/// a call that finds the waiting room full, or waits in vain, is answered with <see cref="Refusal"/> (a trailers-only
/// response). Made for overload: a refusal costs no message decoding, no handler and no exception, and a waiting call
/// costs nothing but its stream, so the CPU stays with the calls let in. Without the wait, clients that answer a
/// refusal with a new call at once (a load tool, a retrying client) kept the server busy refusing: one member of
/// CurpStore admitted 26-30% of its sustainable rate under 10x overload (README "Overload").
/// </summary>
public sealed class CallLimit
{
    private readonly HashSet<string> methods;
    private readonly SemaphoreSlim places;
    private int waiting;
    private long refused;

    /// <param name="maxCalls">Calls of <paramref name="methodNames"/> in flight at once, together.</param>
    /// <param name="maxWaiting">Calls that may wait for a place at once; 0 refuses every call beyond the bound at once.</param>
    /// <param name="maxWait">How long a call waits for a place at most.</param>
    /// <param name="methodNames">The methods' full names (<c>/package.Service/Method</c>); other methods are not bounded.</param>
    /// <param name="refusal">The status a call gets when it finds no place.</param>
    public CallLimit(int maxCalls, int maxWaiting, TimeSpan maxWait, IEnumerable<string> methodNames, GrpcStatus refusal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCalls);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWaiting);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(methodNames);
        MaxCalls = maxCalls;
        MaxWaiting = maxWaiting;
        MaxWait = maxWait;
        methods = new HashSet<string>(methodNames, StringComparer.Ordinal);
        Refusal = refusal;
        // Never disposed: a SemaphoreSlim holds nothing to release unless its wait handle is used, which this never does.
        places = new SemaphoreSlim(maxCalls, maxCalls);
    }

    /// <summary>Calls of the bounded methods in flight at once, at most.</summary>
    public int MaxCalls { get; }

    /// <summary>Calls waiting for a place at once, at most.</summary>
    public int MaxWaiting { get; }

    /// <summary>How long a call waits for a place at most.</summary>
    public TimeSpan MaxWait { get; }

    /// <summary>The status a call that finds no place gets.</summary>
    public GrpcStatus Refusal { get; }

    /// <summary>Calls of the bounded methods now in flight.</summary>
    public int InFlight => MaxCalls - places.CurrentCount;

    /// <summary>Calls now waiting for a place.</summary>
    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>Calls refused so far.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>Whether calls of <paramref name="methodName"/> are bounded.</summary>
    public bool Covers(string methodName) => methods.Contains(methodName);

    /// <summary>Takes a place, waiting for one when all are taken: at most <see cref="MaxWait"/>, or
    /// <paramref name="deadline"/> when that is shorter (the call's own timeout).</summary>
    internal async ValueTask<Admission> EnterAsync(TimeSpan? deadline, CancellationToken callAborted)
    {
        if (places.Wait(0))
        {
            return Admission.Admitted;
        }
        if (Interlocked.Increment(ref waiting) > MaxWaiting)
        {
            Interlocked.Decrement(ref waiting);
            return Refuse();
        }
        var deadlineFirst = deadline is { } callTimeout && callTimeout < MaxWait;
        try
        {
            if (await places.WaitAsync(deadlineFirst ? deadline!.Value : MaxWait, callAborted).ConfigureAwait(false))
            {
                return Admission.Admitted;
            }
        }
        catch (OperationCanceledException) when (callAborted.IsCancellationRequested)
        {
            return Admission.Abandoned;
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
        return deadlineFirst ? Admission.DeadlineExceeded : Refuse();
    }

    /// <summary>Gives back the place of a call that ended.</summary>
    internal void Exit() => places.Release();

    private Admission Refuse()
    {
        Interlocked.Increment(ref refused);
        return Admission.Refused;
    }

    /// <summary>How a call's wait for a place ended.</summary>
    internal enum Admission
    {
        /// <summary>It holds a place: run it, then <see cref="Exit"/>.</summary>
        Admitted,

        /// <summary>No place: answer <see cref="Refusal"/>.</summary>
        Refused,

        /// <summary>The call's own deadline passed while it waited.</summary>
        DeadlineExceeded,

        /// <summary>The client reset the call while it waited: no one to answer.</summary>
        Abandoned,
    }
}
