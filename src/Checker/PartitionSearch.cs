using System.Globalization;
using System.Text;

namespace CurpStore.Checker;

internal enum PartitionVerdict
{
    Linearizable,
    Violation,
    Unknown,
}

internal sealed record PartitionOutcome(PartitionVerdict Verdict, long States, IReadOnlyList<string> Descriptions);

/// <summary>
/// Decides linearizability of the sub-history of one key against a single-register KV model
/// (value, mod revision) using Wing &amp; Gong / Lowe's just-in-time linearization with memoization,
/// the algorithm of the Go tool porcupine.
/// </summary>
/// <remarks>
/// <para>
/// Answered operations are kept in a doubly linked list of call and return events sorted by time
/// (calls before returns at equal times, so touching intervals count as concurrent, matching the
/// strict <c>A.CompleteTime &lt; B.InvokeTime</c> real-time order). The search only ever linearizes an
/// operation whose call precedes the earliest pending return, which is exactly the real-time constraint,
/// and memoizes (set of linearized operations, model state) so that the many interleavings that reach
/// the same configuration are explored once.
/// </para>
/// <para>
/// Unanswered writes have no return event. Rather than sitting in the event list (where the search would
/// try them first at every step, although usually they are only needed to explain a later read), they
/// live in a side list and are tried only after every answered candidate failed at the current return
/// event. The candidate set per step is unchanged, so the search stays complete; only the order differs.
/// A search succeeds once every answered operation is linearized: an unanswered write still pending then
/// is one that never took effect, which is allowed.
/// </para>
/// <para>
/// The linearized set is a bitset with answered operations first in call order. Real-time order forces
/// it to be "a full prefix plus a short window", so the memo key stores the number of leading all-ones
/// words instead of those words; this keeps a million states of a hot key in tens of megabytes.
/// </para>
/// </remarks>
internal sealed class PartitionSearch(bool strict, int maxStates)
{
    private const int Absent = -1;
    private const long UnknownRevision = -1;
    private const int MaxReportedPerKey = 5;

    public static int DebugCount;
    private readonly StateCache _cache = new();
    private readonly Dictionary<string, int> _valueIds = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];

    /// <summary>
    /// Model state of one key. <see cref="Rev"/> is the mod revision a read must report (0 when absent,
    /// <see cref="UnknownRevision"/> after an unanswered write). <see cref="Floor"/> is an exclusive lower
    /// bound for the revision of the next write: it is the last known write revision, raised by one for
    /// every unanswered write since, because such a write consumed some unknown revision above it.
    /// In the effects-only model both stay 0 so that states differing only in revisions merge.
    /// </summary>
    private struct ModelState
    {
        public int Value;
        public long Rev;
        public long Floor;
    }

    // Per-partition data, indexed by local op: answered ops 0..C-1 then unanswered ones C..N-1, each in call order.
    private HistoryOperation[] _ops = [];
    private int[] _value = [];
    private int[] _expected = [];
    private int[] _read = [];
    private int _answered;

    // Strict only: rank of each answered write on this key by answered revision (-1 = not an answered write),
    // and how many answered writes the current prefix holds. Revisions of a key's writes increase along its
    // linearization, so answered writes can only be linearized in rank order; this is implied by the bitset,
    // so it needs no place in the memo key.
    private int[] _writeRank = [];
    private int _writesDone;
    private long[] _hint = [];

    // For an unanswered op: the previous unanswered op (in call order) with the same kind, value and
    // expected value, or -1. Such ops are interchangeable, so they are only used in call order.
    private int[] _previousIdentical = [];

    // Linearized set.
    private ulong[] _bits = [];
    private int _answeredWords;
    private int _fullPrefix;
    private int _highCount;
    private ulong[] _keyBuffer = [];

    public PartitionOutcome Run(IReadOnlyList<HistoryOperation> history, List<int> indices)
    {
        var answeredIdx = new List<int>();
        var pendingIdx = new List<int>();
        long lastReturn = long.MinValue;
        foreach (int i in indices)
        {
            HistoryOperation op = history[i];
            if (op.CompleteTime is long t)
            {
                answeredIdx.Add(i);
                lastReturn = Math.Max(lastReturn, t);
            }
            else if (op.Kind != OperationKind.Get)
            {
                // An unanswered read has no effect and no observation, so it constrains nothing.
                pendingIdx.Add(i);
            }
        }

        if (answeredIdx.Count == 0)
        {
            return new PartitionOutcome(PartitionVerdict.Linearizable, 0, []);
        }

        // An unanswered write invoked after the last answer can be linearized after everything: it never matters.
        pendingIdx.RemoveAll(i => history[i].InvokeTime > lastReturn);

        int ByCall(int a, int b)
        {
            HistoryOperation x = history[a], y = history[b];
            int c = x.InvokeTime.CompareTo(y.InvokeTime);
            if (c == 0)
            {
                c = x.Id.CompareTo(y.Id);
            }

            return c != 0 ? c : a.CompareTo(b);
        }

        answeredIdx.Sort(ByCall);
        pendingIdx.Sort(ByCall);
        Load(history, answeredIdx, pendingIdx);

        List<string> early = Precheck();
        if (early.Count > 0)
        {
            return new PartitionOutcome(PartitionVerdict.Violation, 0, early);
        }

        return Search();
    }

    private void Load(IReadOnlyList<HistoryOperation> history, List<int> answeredIdx, List<int> pendingIdx)
    {
        _answered = answeredIdx.Count;
        int n = _answered + pendingIdx.Count;
        _ops = new HistoryOperation[n];
        _value = new int[n];
        _expected = new int[n];
        _read = new int[n];
        _valueIds.Clear();
        _values.Clear();
        for (int i = 0; i < n; i++)
        {
            HistoryOperation op = history[i < _answered ? answeredIdx[i] : pendingIdx[i - _answered]];
            _ops[i] = op;
            _value[i] = Intern(op.Value);
            _expected[i] = Intern(op.Expected);
            _read[i] = Intern(op.ReadValue);
        }
    }

    private int Intern(string? value)
    {
        if (value is null)
        {
            return Absent;
        }

        if (!_valueIds.TryGetValue(value, out int id))
        {
            id = _values.Count;
            _values.Add(value);
            _valueIds.Add(value, id);
        }

        return id;
    }

    /// <summary>
    /// Cheap necessary conditions: every value read was written by some write invoked before the read
    /// returned (in Strict, by a write answered with the revision the read reports, or by an unanswered one).
    /// A corrupted or invented value is the most common failure; catching it here names the exact read,
    /// where the full search could only say that no linearization exists (and might first hit its bound).
    /// </summary>
    private List<string> Precheck()
    {
        int n = _ops.Length;
        var anyWriter = new long[_values.Count];
        var pendingWriter = new long[_values.Count];
        Array.Fill(anyWriter, long.MaxValue);
        Array.Fill(pendingWriter, long.MaxValue);
        var revWriter = new Dictionary<(int Value, long Rev), long>();
        for (int i = 0; i < n; i++)
        {
            HistoryOperation op = _ops[i];
            bool writes = op.Kind == OperationKind.Put
                || (op.Kind == OperationKind.CompareAndSwap && (i >= _answered || op.Succeeded));
            if (!writes)
            {
                continue;
            }

            int v = _value[i];
            anyWriter[v] = Math.Min(anyWriter[v], op.InvokeTime);
            if (i >= _answered)
            {
                pendingWriter[v] = Math.Min(pendingWriter[v], op.InvokeTime);
            }
            else
            {
                var key = (v, op.ModRevision);
                revWriter[key] = revWriter.TryGetValue(key, out long t) ? Math.Min(t, op.InvokeTime) : op.InvokeTime;
            }
        }

        var problems = new List<string>();
        int total = 0;
        for (int i = 0; i < _answered; i++)
        {
            HistoryOperation op = _ops[i];
            int v = _read[i];
            if (op.Kind != OperationKind.Get || v == Absent)
            {
                continue;
            }

            long returned = op.CompleteTime!.Value;
            string? problem = null;
            if (anyWriter[v] > returned)
            {
                problem = $"{Describe.Op(op)} read a value that no write invoked before it returned could have written.";
            }
            else if (strict && pendingWriter[v] > returned
                && !(revWriter.TryGetValue((v, op.ModRevision), out long t) && t <= returned))
            {
                problem = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Describe.Op(op)} reports mod_revision {op.ModRevision}, but no write of {Describe.Value(op.ReadValue)} invoked before it returned was answered with that revision (and none is unanswered): an answered write revision changed after the fact.");
            }

            if (problem is not null && total++ < MaxReportedPerKey)
            {
                problems.Add(problem);
            }
        }

        if (total > MaxReportedPerKey)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"... and {total - MaxReportedPerKey} more reads of values that cannot have been written."));
        }

        return problems;
    }

    private PartitionOutcome Search()
    {
        int c = _answered;
        int n = _ops.Length;
        int pending = n - c;

        // Events: (time, 0 = call / 1 = return, local op). Calls sort before returns at equal times.
        var events = new (long Time, int Kind, int Op)[(2 * c) + pending];
        int e = 0;
        for (int i = 0; i < c; i++)
        {
            events[e++] = (_ops[i].InvokeTime, 0, i);
            events[e++] = (_ops[i].CompleteTime!.Value, 1, i);
        }

        for (int i = c; i < n; i++)
        {
            events[e++] = (_ops[i].InvokeTime, 0, i);
        }

        Array.Sort(events);

        // Answered-op event list: node 0 = head, 1..2C = events in time order, 2C+1 = tail.
        int tail = (2 * c) + 1;
        var next = new int[tail + 1];
        var prev = new int[tail + 1];
        var nodeOp = new int[tail + 1];
        var nodeIsCall = new bool[tail + 1];
        var nodeRank = new int[tail + 1];
        var callNode = new int[c];
        var returnNode = new int[c];
        var callRank = new int[n];

        // Unanswered-write side list: node 0 = head, k+1 = op C+k, P+1 = tail.
        int pTail = pending + 1;
        var pNext = new int[pTail + 1];
        var pPrev = new int[pTail + 1];

        int node = 0;
        for (int rank = 0; rank < events.Length; rank++)
        {
            (_, int kind, int op) = events[rank];
            if (kind == 0)
            {
                callRank[op] = rank;
            }

            if (op < c)
            {
                node++;
                nodeOp[node] = op;
                nodeIsCall[node] = kind == 0;
                nodeRank[node] = rank;
                if (kind == 0)
                {
                    callNode[op] = node;
                }
                else
                {
                    returnNode[op] = node;
                }
            }
        }

        for (int i = 0; i < tail; i++)
        {
            next[i] = i + 1;
            prev[i + 1] = i;
        }

        for (int i = 0; i < pTail; i++)
        {
            pNext[i] = i + 1;
            pPrev[i + 1] = i;
        }

        _answeredWords = (c + 63) >> 6;
        _bits = new ulong[_answeredWords + ((pending + 63) >> 6)];
        _fullPrefix = 0;
        _highCount = 0;
        _keyBuffer = new ulong[(strict ? 3 : 1) + 1 + _bits.Length];
        _cache.Reset();
        ComputeOrderHints();

        // Stack of linearized operations and the state before each. A forced frame is an eager read
        // (see TakeEagerRead): when it fails, the level it was taken at fails as a whole.
        var stackOp = new int[n];
        var stackForced = new bool[n];
        var stackState = new ModelState[n];
        var stackProgress = new long[n];
        int depth = 0;

        // Highest hint among linearized answered writes: how far along the store's own order the prefix is.
        // An unanswered write whose hint lies behind it is no longer a good guess and is tried last.
        long progress = long.MinValue;
        long EffectiveHint(int op) => op >= c && _hint[op] < progress ? long.MaxValue : _hint[op];

        var state = new ModelState { Value = Absent, Rev = 0, Floor = 0 };
        int remaining = c;
        bool freshLevel = true;
        long lastHint = long.MinValue;
        int lastRank = -1;

        int bestDepth = -1;
        int bestBlockingOp = -1;
        ModelState bestState = state;
        int[] bestTail = [];

        while (remaining > 0)
        {
            bool exhausted = false;
            int firstReturn = next[0];
            while (nodeIsCall[firstReturn])
            {
                firstReturn = next[firstReturn];
            }

            if (freshLevel)
            {
                // Eager reads: an answered observation that holds here without changing the state can be moved
                // to this point of any linearization that exists from here, so it is taken without branching.
                // This removes the 2^k orders of k concurrent reads of one value.
                freshLevel = false;
                lastHint = long.MinValue;
                lastRank = -1;
                StepResult eager = StepResult.Rejected;
                int eagerOp = -1;
                for (int scan = next[0]; scan != firstReturn && eager == StepResult.Rejected; scan = next[scan])
                {
                    eagerOp = nodeOp[scan];
                    eager = TakeEagerRead(state, eagerOp);
                }

                switch (eager)
                {
                    case StepResult.Taken:
                        stackOp[depth] = eagerOp;
                        stackForced[depth] = true;
                        stackState[depth] = state;
                        stackProgress[depth] = progress;
                        depth++;
                        remaining--;
                        Unlink(next, prev, callNode[eagerOp]);
                        Unlink(next, prev, returnNode[eagerOp]);
                        freshLevel = true;
                        continue;
                    case StepResult.BoundHit:
                        return Unknown();
                    case StepResult.Seen:
                        // The forced successor was explored before and failed, so this level fails too.
                        exhausted = true;
                        break;
                }
            }

            if (!exhausted)
            {
                // Candidates: answered calls before the first pending return, and unanswered writes invoked
                // before it, tried in (hint, call rank) order so that backtracking can resume after the last one.
                int candidate = -1;
                long candidateHint = 0;
                int candidateRank = 0;
                for (int scan = next[0]; scan != firstReturn; scan = next[scan])
                {
                    Consider(nodeOp[scan]);
                }

                for (int k = pNext[0]; k != pTail && callRank[c + k - 1] < nodeRank[firstReturn]; k = pNext[k])
                {
                    Consider(c + k - 1);
                }

                void Consider(int op)
                {
                    long h = EffectiveHint(op);
                    int r = callRank[op];
                    if (h < lastHint || (h == lastHint && r <= lastRank))
                    {
                        return;
                    }

                    if (candidate < 0 || h < candidateHint || (h == candidateHint && r < candidateRank))
                    {
                        candidate = op;
                        candidateHint = h;
                        candidateRank = r;
                    }
                }

                if (candidate >= 0 && Environment.GetEnvironmentVariable("CHK_TRACE") is string tr && _hint[candidate] >= long.Parse(tr.Split(',')[0]) && _hint[candidate] <= long.Parse(tr.Split(',')[1]) && DebugCount++ < 200)
                {
                    Console.WriteLine($"TRY depth={depth} {Describe.Op(_ops[candidate])} hint={EffectiveHint(candidate)} state={DescribeState(state)} first={Describe.Op(_ops[nodeOp[firstReturn]])}");
                }

                if (candidate >= 0)
                {
                    switch (TryLinearize(state, candidate, depth, stackOp, stackState, out ModelState after))
                    {
                        case StepResult.Taken:
                            stackOp[depth] = candidate;
                            stackForced[depth] = false;
                            stackState[depth] = state;
                            stackProgress[depth] = progress;
                            state = after;
                            depth++;
                            if (candidate < c)
                            {
                                remaining--;
                                if (_writeRank[candidate] >= 0)
                                {
                                    _writesDone++;
                                    progress = Math.Max(progress, _hint[candidate]);
                                }

                                Unlink(next, prev, callNode[candidate]);
                                Unlink(next, prev, returnNode[candidate]);
                            }
                            else
                            {
                                Unlink(pNext, pPrev, candidate - c + 1);
                            }

                            freshLevel = true;
                            continue;
                        case StepResult.BoundHit:
                            return Unknown();
                        default:
                            lastHint = candidateHint;
                            lastRank = candidateRank;
                            continue;
                    }
                }
            }

            // Every candidate failed: the op of the first pending return cannot be explained. Backtrack.
            int linearizedAnswered = c - remaining;
            if (DebugCount++ < 40 && Environment.GetEnvironmentVariable("CHK_DEBUG") is not null)
            {
                Console.WriteLine($"EXH depth={depth} answered={linearizedAnswered} states={_cache.Count} block={Describe.Op(_ops[nodeOp[firstReturn]])} state={DescribeState(state)} exhaustedBySeen={exhausted}");
                for (int k = Math.Max(0, depth - 6); k < depth; k++) Console.WriteLine($"    {(stackForced[k] ? "F" : " ")} {Describe.Op(_ops[stackOp[k]])} hint={_hint[stackOp[k]]}");
                for (int scan = next[0]; scan != firstReturn; scan = next[scan]) Console.WriteLine($"    cand {Describe.Op(_ops[nodeOp[scan]])} hint={_hint[nodeOp[scan]]}");
                for (int k = pNext[0]; k != pTail && callRank[c + k - 1] < nodeRank[firstReturn]; k = pNext[k]) Console.WriteLine($"    pcand {Describe.Op(_ops[c+k-1])} hint={_hint[c+k-1]}");
            }

            if (linearizedAnswered > bestDepth)
            {
                bestDepth = linearizedAnswered;
                bestBlockingOp = nodeOp[firstReturn];
                bestState = state;
                bestTail = stackOp[Math.Max(0, depth - 3)..depth];
            }

            bool forced;
            do
            {
                if (depth == 0)
                {
                    return new PartitionOutcome(
                        PartitionVerdict.Violation,
                        _cache.Count,
                        [Explain(bestDepth, bestBlockingOp, bestState, bestTail)]);
                }

                depth--;
                int op = stackOp[depth];
                forced = stackForced[depth];
                state = stackState[depth];
                progress = stackProgress[depth];
                ClearBit(op);
                if (op < c)
                {
                    remaining++;
                    if (_writeRank[op] >= 0)
                    {
                        _writesDone--;
                    }

                    Relink(next, prev, returnNode[op]);
                    Relink(next, prev, callNode[op]);
                }
                else
                {
                    Relink(pNext, pPrev, op - c + 1);
                }

                lastHint = EffectiveHint(op);
                lastRank = callRank[op];
            }
            while (forced);
        }

        return new PartitionOutcome(PartitionVerdict.Linearizable, _cache.Count, []);

        PartitionOutcome Unknown() => new(
            PartitionVerdict.Unknown,
            _cache.Count,
            [string.Create(CultureInfo.InvariantCulture, $"search bound of {maxStates} states hit after linearizing at most {Math.Max(bestDepth, c - remaining)} of {c} answered operations")]);
    }

    private enum StepResult
    {
        Rejected,
        Taken,
        Seen,
        BoundHit,
    }

    /// <summary>
    /// Takes <paramref name="op"/> if it is an answered observation (a read, or a Delete / compare-and-swap
    /// that failed) whose answer holds in <paramref name="state"/> without changing it. Returns
    /// <see cref="StepResult.Seen"/> if the resulting configuration was explored before.
    /// </summary>
    private StepResult TakeEagerRead(in ModelState state, int op)
    {
        HistoryOperation o = _ops[op];
        bool observes = o.Kind == OperationKind.Get
            || (o.Kind is OperationKind.Delete or OperationKind.CompareAndSwap && !o.Succeeded);
        if (!observes || !Step(state, op, out ModelState after)
            || after.Value != state.Value || after.Rev != state.Rev || after.Floor != state.Floor)
        {
            return StepResult.Rejected;
        }

        SetBit(op);
        if (!_cache.TryAdd(Encode(state)))
        {
            ClearBit(op);
            return StepResult.Seen;
        }

        return _cache.Count > maxStates ? StepResult.BoundHit : StepResult.Taken;
    }

    /// <summary>
    /// Checks the pruning rules, the model step and the memo. On <see cref="StepResult.Taken"/> the op's
    /// bit stays set and <paramref name="after"/> is the new state; otherwise the linearized set is unchanged.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Unanswered writes that never took effect stay candidates for the rest of the key's history, and
    /// without pruning every dead end would try every subset and order of them before backtracking.
    /// Three rules remove that; each discards only linearizations for which one using fewer unanswered ops
    /// is explored anyway, so a linearization with the fewest unanswered ops always survives (which is also
    /// why these path-dependent rules can share the memo, whose key does not record the path):
    /// </para>
    /// <list type="bullet">
    /// <item>Identical unanswered ops are interchangeable; they are used in call order only.</item>
    /// <item>
    /// After an unanswered op U taken from state s0 into s1, the next op X (giving s2) must need U: it is
    /// rejected if X alone from s0 reaches a state at least as permissive as s2 (X is a candidate at s0 too,
    /// since U was chosen among the same candidates), or if X is unanswered and s1 or s0 is at least as
    /// permissive as s2 (X, or both, are pointless).
    /// </item>
    /// <item>In Strict, answered writes go in revision order, because any other order fails later for sure.</item>
    /// </list>
    /// </remarks>
    private StepResult TryLinearize(
        in ModelState state, int op, int depth, int[] stackOp, ModelState[] stackState, out ModelState after)
    {
        after = state;
        if (op >= _answered && _previousIdentical[op] >= 0 && !IsSet(_previousIdentical[op]))
        {
            return StepResult.Rejected;
        }

        if (strict && _writeRank[op] >= 0 && _writeRank[op] != _writesDone)
        {
            return StepResult.Rejected;
        }

        if (!Step(state, op, out after))
        {
            return StepResult.Rejected;
        }

        if (depth > 0 && stackOp[depth - 1] >= _answered)
        {
            ModelState beforeU = stackState[depth - 1];
            if ((op >= _answered && (Dominates(state, after) || Dominates(beforeU, after)))
                || (Step(beforeU, op, out ModelState alone) && Dominates(alone, after)))
            {
                return StepResult.Rejected;
            }
        }

        SetBit(op);
        if (!_cache.TryAdd(Encode(after)))
        {
            ClearBit(op);
            return StepResult.Rejected;
        }

        if (_cache.Count > maxStates)
        {
            return StepResult.BoundHit;
        }

        return StepResult.Taken;
    }

    /// <summary>
    /// True if every sequence of operations valid from <paramref name="b"/> is valid from <paramref name="a"/>
    /// (and leads to states related the same way): same value, a revision floor no higher, and a mod revision
    /// that is either the same or still unknown (a read can pin an unknown one to anything at or above the floor).
    /// </summary>
    private static bool Dominates(in ModelState a, in ModelState b) =>
        a.Value == b.Value
        && a.Floor <= b.Floor
        && (a.Rev == b.Rev || (a.Rev == UnknownRevision && (b.Rev == UnknownRevision || b.Rev >= a.Floor)));

    /// <summary>
    /// The sequential specification. Unanswered operations take their effect without any observation
    /// to match; an unanswered op that would change nothing is rejected, because linearizing it as a
    /// no-op is indistinguishable from never linearizing it and would only add states.
    /// </summary>
    private bool Step(ModelState s, int op, out ModelState after)
    {
        after = s;
        HistoryOperation o = _ops[op];
        bool answered = op < _answered;
        switch (o.Kind)
        {
            case OperationKind.Get:
                if (_read[op] != s.Value)
                {
                    return false;
                }

                if (!strict)
                {
                    return true;
                }

                if (s.Value == Absent)
                {
                    return o.ModRevision == 0;
                }

                if (s.Rev != UnknownRevision)
                {
                    return o.ModRevision == s.Rev;
                }

                // First read of a value written by an unanswered write pins down that write's revision.
                if (o.ModRevision < s.Floor)
                {
                    return false;
                }

                after.Rev = o.ModRevision;
                after.Floor = o.ModRevision;
                return true;

            case OperationKind.Put:
                return Write(s, _value[op], answered, o.ModRevision, out after);

            case OperationKind.Delete:
                if (answered && !o.Succeeded)
                {
                    return s.Value == Absent;
                }

                if (s.Value == Absent)
                {
                    return false;
                }

                return Write(s, Absent, answered, o.ModRevision, out after);

            case OperationKind.CompareAndSwap:
                bool matches = s.Value == _expected[op];
                if (answered && !o.Succeeded)
                {
                    return !matches;
                }

                return matches && Write(s, _value[op], answered, o.ModRevision, out after);

            default:
                return false;
        }
    }

    private void ComputeOrderHints()
    {
        _previousIdentical = new int[_ops.Length];
        Array.Fill(_previousIdentical, -1);
        var lastIdentical = new Dictionary<(OperationKind Kind, int Value, int Expected), int>();
        for (int i = _answered; i < _ops.Length; i++)
        {
            var identity = (_ops[i].Kind, _value[i], _expected[i]);
            if (lastIdentical.TryGetValue(identity, out int previous))
            {
                _previousIdentical[i] = previous;
            }

            lastIdentical[identity] = i;
        }

        _writeRank = new int[_ops.Length];
        Array.Fill(_writeRank, -1);
        _writesDone = 0;
        var writes = new List<int>();
        for (int i = 0; i < _answered; i++)
        {
            HistoryOperation op = _ops[i];
            if (op.Kind == OperationKind.Put || (op.Kind is OperationKind.Delete or OperationKind.CompareAndSwap && op.Succeeded))
            {
                writes.Add(i);
            }
        }

        writes.Sort((a, b) =>
        {
            int c = _ops[a].ModRevision.CompareTo(_ops[b].ModRevision);
            return c != 0 ? c : a.CompareTo(b);
        });
        for (int k = 0; k < writes.Count; k++)
        {
            _writeRank[writes[k]] = k;
        }

        // Search-order hints: where the answers' revisions place an op in the store's own order (writes at
        // 2*rev, observations just after the write they saw). Trying candidates in this order finds the real
        // linearization almost without backtracking when the revisions are right; when they are wrong or
        // absent (all 0) the order falls back to invocation order. Completeness never depends on it.
        _hint = new long[_ops.Length];
        for (int i = 0; i < _answered; i++)
        {
            HistoryOperation op = _ops[i];
            if (_writeRank[i] >= 0)
            {
                _hint[i] = 2 * op.ModRevision;
            }
            else
            {
                _hint[i] = op.Kind == OperationKind.Get && op.ReadValue is not null
                    ? (2 * op.ModRevision) + 1
                    : (2 * op.HeaderRevision) + 1;
            }
        }

        // Unanswered ops: replay the answered ops in hint order against the model, and wherever an answer
        // cannot hold in the replayed state, slot in (just before it) the most recently invoked unused
        // unanswered op that would make it hold. This is usually exactly the write whose answer was lost.
        // Unanswered ops the replay never needed are tried last, as the plain just-in-time search does.
        for (int i = _answered; i < _ops.Length; i++)
        {
            _hint[i] = long.MaxValue;
        }

        var order = new int[_answered];
        for (int i = 0; i < _answered; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => _hint[a] != _hint[b] ? _hint[a].CompareTo(_hint[b]) : a.CompareTo(b));
        int replayed = Absent;
        foreach (int i in order)
        {
            if (!Holds(i, replayed))
            {
                int fix = -1;
                for (int p = _answered; p < _ops.Length; p++)
                {
                    if (_hint[p] == long.MaxValue && _ops[p].InvokeTime <= _ops[i].CompleteTime!.Value
                        && ReplayEffect(p, replayed) is int v && v != replayed && Holds(i, v)
                        && (fix < 0 || _ops[p].InvokeTime >= _ops[fix].InvokeTime))
                    {
                        fix = p;
                    }
                }

                if (fix >= 0)
                {
                    _hint[fix] = _hint[i] - 1;
                    replayed = ReplayEffect(fix, replayed)!.Value;
                }
            }

            replayed = _ops[i].Kind switch
            {
                OperationKind.Get => _read[i],
                OperationKind.Put => _value[i],
                OperationKind.Delete => Absent,
                OperationKind.CompareAndSwap when _ops[i].Succeeded => _value[i],
                _ => replayed,
            };
        }
    }

    /// <summary>Whether the answer of answered op <paramref name="op"/> holds when the key has <paramref name="value"/>.</summary>
    private bool Holds(int op, int value)
    {
        HistoryOperation o = _ops[op];
        return o.Kind switch
        {
            OperationKind.Get => _read[op] == value,
            OperationKind.Delete => o.Succeeded == (value != Absent),
            OperationKind.CompareAndSwap => o.Succeeded == (value == _expected[op]),
            _ => true,
        };
    }

    /// <summary>The value unanswered op <paramref name="op"/> leaves if it takes effect on <paramref name="value"/>; null if it cannot.</summary>
    private int? ReplayEffect(int op, int value) => _ops[op].Kind switch
    {
        OperationKind.Put => _value[op],
        OperationKind.CompareAndSwap when value == _expected[op] => _value[op],
        OperationKind.Delete when value != Absent => Absent,
        _ => null,
    };

    private bool Write(ModelState s, int value, bool answered, long revision, out ModelState after)
    {
        after = new ModelState { Value = value };
        if (!strict)
        {
            return true;
        }

        if (answered)
        {
            if (revision <= s.Floor)
            {
                return false;
            }

            after.Rev = value == Absent ? 0 : revision;
            after.Floor = revision;
        }
        else
        {
            after.Rev = value == Absent ? 0 : UnknownRevision;
            after.Floor = s.Floor + 1;
        }

        return true;
    }

    private ReadOnlySpan<ulong> Encode(in ModelState s)
    {
        ulong[] buffer = _keyBuffer;
        int length = 0;
        buffer[length++] = (ulong)(long)s.Value;
        if (strict)
        {
            buffer[length++] = (ulong)s.Rev;
            buffer[length++] = (ulong)s.Floor;
        }

        buffer[length++] = (ulong)_fullPrefix;
        for (int w = _fullPrefix; w < _highCount; w++)
        {
            buffer[length++] = _bits[w];
        }

        for (int w = _answeredWords; w < _bits.Length; w++)
        {
            buffer[length++] = _bits[w];
        }

        return buffer.AsSpan(0, length);
    }

    private bool IsSet(int op)
    {
        if (op >= _answered)
        {
            int k = op - _answered;
            return (_bits[_answeredWords + (k >> 6)] & (1UL << (k & 63))) != 0;
        }

        return (_bits[op >> 6] & (1UL << (op & 63))) != 0;
    }

    private void SetBit(int op)
    {
        if (op >= _answered)
        {
            int k = op - _answered;
            _bits[_answeredWords + (k >> 6)] |= 1UL << (k & 63);
            return;
        }

        int word = op >> 6;
        _bits[word] |= 1UL << (op & 63);
        if (word >= _highCount)
        {
            _highCount = word + 1;
        }

        while (_fullPrefix < _answeredWords && _bits[_fullPrefix] == ulong.MaxValue)
        {
            _fullPrefix++;
        }
    }

    private void ClearBit(int op)
    {
        if (op >= _answered)
        {
            int k = op - _answered;
            _bits[_answeredWords + (k >> 6)] &= ~(1UL << (k & 63));
            return;
        }

        int word = op >> 6;
        _bits[word] &= ~(1UL << (op & 63));
        if (word < _fullPrefix)
        {
            _fullPrefix = word;
        }

        while (_highCount > 0 && _bits[_highCount - 1] == 0)
        {
            _highCount--;
        }
    }

    private static void Unlink(int[] next, int[] prev, int node)
    {
        next[prev[node]] = next[node];
        prev[next[node]] = prev[node];
    }

    private static void Relink(int[] next, int[] prev, int node)
    {
        next[prev[node]] = node;
        prev[next[node]] = node;
    }

    private string Explain(int bestDepth, int blockingOp, ModelState state, int[] tail)
    {
        var sb = new StringBuilder();
        int pending = _ops.Length - _answered;
        sb.Append(CultureInfo.InvariantCulture, $"no linearization of the {_answered} answered operations");
        if (pending > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $" (plus {pending} unanswered write(s) that may or may not have taken effect)");
        }

        sb.Append(CultureInfo.InvariantCulture, $". The longest linearizable prefix orders {bestDepth} answered operations");
        if (tail.Length > 0)
        {
            sb.Append(", ending with ");
            sb.AppendJoin("; ", tail.Select(op => Describe.Op(_ops[op])));
        }

        sb.Append(". After it the key holds ").Append(DescribeState(state));
        sb.Append(". Then ").Append(Describe.Op(_ops[blockingOp]));
        sb.Append(" is the earliest pending return, and no operation invoked before it returned can be placed next in a way that lets its answer hold.");
        return sb.ToString();
    }

    private string DescribeState(ModelState s)
    {
        string value = s.Value == Absent ? "no value" : "value " + Describe.Value(_values[s.Value]);
        if (!strict)
        {
            return value;
        }

        string rev = s.Value == Absent
            ? string.Empty
            : s.Rev == UnknownRevision
                ? string.Create(CultureInfo.InvariantCulture, $" at an unknown mod_revision >= {s.Floor} (from an unanswered write)")
                : string.Create(CultureInfo.InvariantCulture, $" at mod_revision {s.Rev}");
        return value + rev + string.Create(CultureInfo.InvariantCulture, $"; the next write needs a revision above {s.Floor}");
    }
}
