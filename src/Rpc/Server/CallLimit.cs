namespace CurpStore.Rpc;

/// <summary>
/// Bounds the calls of some methods in flight at once on a <see cref="GrpcServer"/>, from the moment their headers are
/// valid (before the request is read or decoded) to the moment their status is sent; a call beyond the bound is answered
/// at once with <see cref="Refusal"/> (a trailers-only response). Made for overload: a refusal costs no message
/// decoding, no handler and no exception, so the CPU stays with the calls let in. A place is taken atomically before
/// the call is read, so the calls let in never exceed the bound, however many arrive together.
/// </summary>
public sealed class CallLimit
{
    private readonly HashSet<string> methods;
    private int inFlight;
    private long refused;

    /// <param name="maxCalls">Calls of <paramref name="methodNames"/> in flight at once, together.</param>
    /// <param name="methodNames">The methods' full names (<c>/package.Service/Method</c>); other methods are not bounded.</param>
    /// <param name="refusal">The status a call beyond the bound gets.</param>
    public CallLimit(int maxCalls, IEnumerable<string> methodNames, GrpcStatus refusal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCalls);
        ArgumentNullException.ThrowIfNull(methodNames);
        MaxCalls = maxCalls;
        methods = new HashSet<string>(methodNames, StringComparer.Ordinal);
        Refusal = refusal;
    }

    /// <summary>Calls of the bounded methods in flight at once, at most.</summary>
    public int MaxCalls { get; }

    /// <summary>The status a call beyond <see cref="MaxCalls"/> gets.</summary>
    public GrpcStatus Refusal { get; }

    /// <summary>Calls of the bounded methods now in flight.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Calls refused so far.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>Whether calls of <paramref name="methodName"/> are bounded.</summary>
    public bool Covers(string methodName) => methods.Contains(methodName);

    /// <summary>Takes a place, or returns false (and counts a refusal) when all <see cref="MaxCalls"/> are taken.</summary>
    internal bool TryEnter()
    {
        if (Interlocked.Increment(ref inFlight) <= MaxCalls)
        {
            return true;
        }
        Interlocked.Decrement(ref inFlight);
        Interlocked.Increment(ref refused);
        return false;
    }

    /// <summary>Gives back the place of a call that ended.</summary>
    internal void Exit() => Interlocked.Decrement(ref inFlight);
}
