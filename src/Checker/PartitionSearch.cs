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
/// the algorithm of the Go tool porcupine, plus pruning and ordering that keep hot keys tractable.
/// </summary>
/// <remarks>
/// <para>
/// Answered operations are kept in a doubly linked list of call and return events sorted by time
/// (calls before returns at equal times, so touching intervals count as concurrent, matching the
/// strict <c>A.CompleteTime &lt; B.InvokeTime</c> real-time order). The search only ever linearizes an
/// operation whose call precedes the earliest pending return, which is exactly the real-time constraint,
/// and memoizes (set of linearized operations, model state) so that the many interleavings that reach
/// the same configuration are explored once. A search succeeds once every answered operation is
/// linearized: an unanswered write left over is one that never took effect, which is allowed.
/// </para>
/// <para>
/// Plain porcupine explodes on a hot key with dozens of concurrent clients and some lost answers, so:
/// </para>
/// <list type="bullet">
/// <item>
/// Candidates are tried in the order the answers' revisions suggest (the store's own order), not in call
/// order; with correct revisions the first path tried is the real one. Order never affects completeness.
/// </item>
/// <item>
/// Reads (and failed deletes/compare-and-swaps) that hold in the current state are taken eagerly without
/// branching: such an op can be moved to this point of any linearization from here.
/// </item>
/// <item>
/// Unanswered writes live in a side list, get a position from a replay of the answered ops (where an answer
/// needs a write nobody answered), and are otherwise tried last. Dominance rules (see
/// <see cref="TryLinearize"/>) stop the search from trying every subset of them at every dead end.
/// </item>
/// <item>In Strict, answered writes are linearized in revision order, which the model demands anyway.</item>
/// <item>
/// Effects-only first runs the (much more constrained) strict search, whose linearizations are valid
/// effects-only linearizations too, and searches the effects-only model only if that finds none.
/// </item>
/// </list>
/// <para>
/// All of this leans on revisions being recorded: a hot key of a history without revisions, with dozens of
/// concurrent clients, falls back to plain porcupine behaviour and may well end up <see cref="PartitionVerdict.Unknown"/>.
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

    // Rank of each answered write on this key by answered revision (-1 = not an answered write), and how many
    // answered writes the current prefix holds. In Strict, revisions of a key's writes increase along its
    // linearization, so answered writes can only be linearized in rank order; this is implied by the bitset,
    // so it needs no place in the memo key. Hints (search order, see ComputeOrderHints) exist in both models.
    private int[] _writeRank = [];
    private int _writesDone;
    // The model the current pass searches (the effects-only check runs a strict pass first, see Run).
    private bool _strictModel;
    private int _budget;
    private long[] _revisionByRank = [];
    private readonly HashSet<long> _answeredRevisions = [];
    private long[] _hint = [];

    // For an unanswered op: the previous unanswered op (in call order) with the same kind, value and
    // expected value, or -1. Such ops are interchangeable, so they are only used in call order.
    private int[] _previousIdentical = [];
    private readonly Dictionary<int, List<int>> _pendingCasByExpected = [];

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

        if (strict)
        {
            return Search(strictModel: true, maxStates);
        }

        // Effects-only does not trust revisions, but they are nearly always right, and every linearization
        // valid in the strict model is valid in the effects-only one. The strict search is far more
        // constrained (writes in revision order, reads pinned to revisions), so try it first; only if it finds
        // nothing, search the effects-only model itself, which alone may report a violation. The two passes
        // share the per-key budget.
        PartitionOutcome guided = Search(strictModel: true, Math.Max(1, maxStates / 2));
        if (guided.Verdict == PartitionVerdict.Linearizable)
        {
            return guided;
        }

        PartitionOutcome full = Search(strictModel: false, (int)Math.Max(1, maxStates - guided.States));
        return full with { States = guided.States + full.States };
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
    /// Cheap necessary conditions checked before the search, because the most common failures (a corrupted,
    /// invented or stale read) are caught here with a message naming the exact operations involved, where
    /// the search could only say that no linearization exists, and on a long hot key might first hit its bound.
    /// For every answered read of a value v:
    /// <list type="bullet">
    /// <item>some write of v was invoked before the read returned;</item>
    /// <item>
    /// not every such write was overwritten before the read began: if a write of v completed, then another
    /// write of a different value ran entirely after it and before the read, that write of v cannot be the
    /// one read; if that holds for all writes of v, the read is stale;
    /// </item>
    /// <item>in Strict, a write of v was answered with the revision the read reports, or one is unanswered.</item>
    /// </list>
    /// </summary>
    private List<string> Precheck()
    {
        int n = _ops.Length;
        var writers = new List<int>[_values.Count];
        var revWriter = new Dictionary<(int Value, long Rev), long>();
        var overwrites = new List<int>();
        for (int i = 0; i < n; i++)
        {
            HistoryOperation op = _ops[i];
            bool answered = i < _answered;
            bool changes = op.Kind == OperationKind.Put
                || (op.Kind is OperationKind.CompareAndSwap or OperationKind.Delete && (!answered || op.Succeeded));
            if (changes && answered)
            {
                overwrites.Add(i);
            }

            if (!changes || op.Kind == OperationKind.Delete)
            {
                continue;
            }

            int v = _value[i];
            (writers[v] ??= []).Add(i);
            if (answered)
            {
                var key = (v, op.ModRevision);
                revWriter[key] = revWriter.TryGetValue(key, out long t) ? Math.Min(t, op.InvokeTime) : op.InvokeTime;
            }
        }

        // Answered writes by invocation, with the earliest completion among those invoked after each point.
        overwrites.Sort((a, b) => _ops[a].InvokeTime != _ops[b].InvokeTime ? _ops[a].InvokeTime.CompareTo(_ops[b].InvokeTime) : a.CompareTo(b));
        var overwriteInvoke = new long[overwrites.Count];
        var firstDoneAfter = new int[overwrites.Count + 1];
        firstDoneAfter[overwrites.Count] = -1;
        for (int k = overwrites.Count - 1; k >= 0; k--)
        {
            int op = overwrites[k];
            overwriteInvoke[k] = _ops[op].InvokeTime;
            int best = firstDoneAfter[k + 1];
            firstDoneAfter[k] = best >= 0 && _ops[best].CompleteTime!.Value <= _ops[op].CompleteTime!.Value ? best : op;
        }

        // Writers of each value by invocation, with the latest completion so far (unanswered = never completes).
        var writerInvoke = new long[_values.Count][];
        var latestWriter = new int[_values.Count][];
        for (int v = 0; v < _values.Count; v++)
        {
            List<int> list = writers[v] ?? [];
            list.Sort((a, b) => _ops[a].InvokeTime != _ops[b].InvokeTime ? _ops[a].InvokeTime.CompareTo(_ops[b].InvokeTime) : a.CompareTo(b));
            writerInvoke[v] = [.. list.Select(w => _ops[w].InvokeTime)];
            latestWriter[v] = new int[list.Count];
            for (int k = 0; k < list.Count; k++)
            {
                int prev = k > 0 ? latestWriter[v][k - 1] : -1;
                latestWriter[v][k] = prev >= 0 && CompletedBy(prev) >= CompletedBy(list[k]) ? prev : list[k];
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
            int count = UpperBound(writerInvoke[v], returned);
            if (count == 0)
            {
                problem = $"{Describe.Op(op)} read a value that no write invoked before it returned could have written.";
            }
            else
            {
                // The writer of v that completed last is the one least likely to have been overwritten.
                int last = latestWriter[v][count - 1];
                int from = UpperBound(overwriteInvoke, CompletedBy(last));
                int overwrite = firstDoneAfter[from];
                if (overwrite >= 0 && _ops[overwrite].CompleteTime!.Value < op.InvokeTime
                    && (_ops[overwrite].Kind == OperationKind.Delete || _value[overwrite] != v))
                {
                    problem = $"{Describe.Op(op)} is a stale read: the last write of that value to complete, {Describe.Op(_ops[last])}, was followed by {Describe.Op(_ops[overwrite])}, which began after it completed and completed before the read began.";
                }
                else if (strict && !(revWriter.TryGetValue((v, op.ModRevision), out long t) && t <= returned)
                    && !writers[v]!.Any(w => w >= _answered && _ops[w].InvokeTime <= returned))
                {
                    problem = string.Create(
                        CultureInfo.InvariantCulture,
                        $"{Describe.Op(op)} reports mod_revision {op.ModRevision}, but no write of {Describe.Value(op.ReadValue)} invoked before it returned was answered with that revision (and none is unanswered): an answered write revision changed after the fact.");
                }
            }

            if (problem is not null && total++ < MaxReportedPerKey)
            {
                problems.Add(problem);
            }
        }

        if (total > MaxReportedPerKey)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"... and {total - MaxReportedPerKey} more reads that cannot be explained."));
        }

        return problems;

        long CompletedBy(int op) => _ops[op].CompleteTime ?? long.MaxValue;
    }

    /// <summary>Number of elements of the ascending <paramref name="sorted"/> that are at most <paramref name="value"/>.</summary>
    private static int UpperBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private PartitionOutcome Search(bool strictModel, int budget)
    {
        _strictModel = strictModel;
        _budget = budget;
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
        _keyBuffer = new ulong[(_strictModel ? 3 : 1) + 1 + _bits.Length];
        _cache.Reset();
        ComputeOrderHints();

        // Unanswered ops that got a hint, sorted by (hint, call rank), for the first candidate tier.
        int[] hinted = [.. Enumerable.Range(c, pending).Where(op => _hint[op] != long.MaxValue)];
        Array.Sort(hinted, (a, b) => _hint[a] != _hint[b] ? _hint[a].CompareTo(_hint[b]) : callRank[a].CompareTo(callRank[b]));
        int LowerBound(int[] sorted, long hint, int rank)
        {
            // First position whose (hint, call rank) is above (hint, rank).
            int lo = 0, hi = sorted.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                int op = sorted[mid];
                if (_hint[op] < hint || (_hint[op] == hint && callRank[op] <= rank))
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

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
        int lastOp = -1;

        int bestDepth = -1;
        int bestBlockingOp = -1;
        ModelState bestState = state;
        int[] bestTail = [];
        int bestWritesDone = 0;

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
                // Two tiers keep this cheap when many unanswered ops pile up: ops with a usable hint (answered
                // ones in the window, hinted unanswered ones found by binary search), then the rest of the
                // unanswered ops in call order, resuming from the last one tried.
                int candidate = -1;
                long candidateHint = 0;
                int candidateRank = 0;
                int returnRank = nodeRank[firstReturn];
                if (lastHint != long.MaxValue)
                {
                    for (int scan = next[0]; scan != firstReturn; scan = next[scan])
                    {
                        Consider(nodeOp[scan]);
                    }

                    long fromHint = Math.Max(lastHint, progress);
                    int fromRank = lastHint >= progress ? lastRank : -1;
                    for (int k = LowerBound(hinted, fromHint, fromRank); k < hinted.Length; k++)
                    {
                        int op = hinted[k];
                        if (candidate >= 0 && (_hint[op] > candidateHint || (_hint[op] == candidateHint && callRank[op] > candidateRank)))
                        {
                            break;
                        }

                        if (!IsSet(op) && callRank[op] < returnRank)
                        {
                            Consider(op);
                            break;
                        }
                    }
                }

                if (candidate < 0)
                {
                    int k = lastHint == long.MaxValue ? pNext[lastOp - c + 1] : pNext[0];
                    for (; k != pTail && callRank[c + k - 1] < returnRank; k = pNext[k])
                    {
                        if (EffectiveHint(c + k - 1) == long.MaxValue)
                        {
                            candidate = c + k - 1;
                            candidateHint = long.MaxValue;
                            candidateRank = callRank[candidate];
                            break;
                        }
                    }
                }

                void Consider(int op)
                {
                    long h = EffectiveHint(op);
                    int r = callRank[op];
                    if (h == long.MaxValue || h < lastHint || (h == lastHint && r <= lastRank))
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

                if (candidate >= 0)
                {
                    bool afterPending = depth > 0 && stackOp[depth - 1] >= c;
                    ModelState beforeU = afterPending ? stackState[depth - 1] : state;
                    ModelState after = state;
                    StepResult result;
                    if (candidate >= c && !afterPending
                        && (!Admissible(state, candidate, false, state, out ModelState peek) || !HasFollower(state, peek, candidate, returnRank)))
                    {
                        // An unanswered op that nothing could directly follow is a dead end; skip it without a state.
                        result = StepResult.Rejected;
                    }
                    else
                    {
                        result = TryLinearize(state, candidate, afterPending, beforeU, out after);
                    }

                    switch (result)
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
                            lastOp = candidate;
                            continue;
                    }
                }
            }

            // Every candidate failed: the op of the first pending return cannot be explained. Backtrack.
            int linearizedAnswered = c - remaining;
            if (linearizedAnswered > bestDepth)
            {
                bestDepth = linearizedAnswered;
                bestBlockingOp = nodeOp[firstReturn];
                bestState = state;
                bestTail = stackOp[Math.Max(0, depth - 3)..depth];
                bestWritesDone = _writesDone;
            }

            bool forced;
            do
            {
                if (depth == 0)
                {
                    return new PartitionOutcome(
                        PartitionVerdict.Violation,
                        _cache.Count,
                        [Explain(bestDepth, bestBlockingOp, bestState, bestTail, bestWritesDone)]);
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
                lastOp = op;
            }
            while (forced);
        }

        return new PartitionOutcome(PartitionVerdict.Linearizable, _cache.Count, []);

        // Whether anything could be linearized right after unanswered op u (taken from s0 into s1): an eager
        // read, an admissible answered candidate, or an unanswered compare-and-swap expecting u's value (by
        // the rules of TryLinearize no other unanswered op may directly follow an unanswered one).
        bool HasFollower(in ModelState s0, in ModelState s1, int u, int returnRank)
        {
            SetBit(u);
            try
            {
                for (int scan = next[0]; nodeIsCall[scan]; scan = next[scan])
                {
                    int x = nodeOp[scan];
                    if ((IsObservation(x) && Step(s1, x, out ModelState s2) && SameState(s1, s2))
                        || Admissible(s1, x, true, s0, out _))
                    {
                        return true;
                    }
                }

                if (_pendingCasByExpected.TryGetValue(s1.Value, out List<int>? cas))
                {
                    foreach (int x in cas)
                    {
                        if (!IsSet(x) && callRank[x] < returnRank && Admissible(s1, x, true, s0, out _))
                        {
                            return true;
                        }
                    }
                }

                return false;
            }
            finally
            {
                ClearBit(u);
            }
        }

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
        if (!IsObservation(op) || !Step(state, op, out ModelState after) || !SameState(state, after))
        {
            return StepResult.Rejected;
        }

        SetBit(op);
        if (!_cache.TryAdd(Encode(state)))
        {
            ClearBit(op);
            return StepResult.Seen;
        }

        return _cache.Count > _budget ? StepResult.BoundHit : StepResult.Taken;
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
        in ModelState state, int op, bool afterPending, in ModelState beforeU, out ModelState after)
    {
        if (!Admissible(state, op, afterPending, beforeU, out after))
        {
            return StepResult.Rejected;
        }

        SetBit(op);
        if (!_cache.TryAdd(Encode(after)))
        {
            ClearBit(op);
            return StepResult.Rejected;
        }

        if (_cache.Count > _budget)
        {
            return StepResult.BoundHit;
        }

        return StepResult.Taken;
    }

    /// <summary>An answered op that changes nothing whatever it saw: a read, or a Delete / compare-and-swap that failed.</summary>
    private bool IsObservation(int op)
    {
        HistoryOperation o = _ops[op];
        return op < _answered
            && (o.Kind == OperationKind.Get || (o.Kind is OperationKind.Delete or OperationKind.CompareAndSwap && !o.Succeeded));
    }

    private static bool SameState(in ModelState a, in ModelState b) =>
        a.Value == b.Value && a.Rev == b.Rev && a.Floor == b.Floor;

    /// <summary>The pruning rules and the model step of <see cref="TryLinearize"/>, without touching the memo.</summary>
    private bool Admissible(in ModelState state, int op, bool afterPending, in ModelState beforeU, out ModelState after)
    {
        after = state;
        if (op >= _answered && _previousIdentical[op] >= 0 && !IsSet(_previousIdentical[op]))
        {
            return false;
        }

        if (_strictModel && _writeRank[op] >= 0 && _writeRank[op] != _writesDone)
        {
            return false;
        }

        if (!Step(state, op, out after))
        {
            return false;
        }

        return !afterPending
            || !((op >= _answered && (Dominates(state, after) || Dominates(beforeU, after)))
                || (Step(beforeU, op, out ModelState alone) && Dominates(alone, after)));
    }

    /// <summary>
    /// True if every sequence of operations valid from <paramref name="b"/> is valid from <paramref name="a"/>
    /// (and leads to states related the same way): same value and mod revision (possibly both unknown), and a
    /// revision floor no higher, since a lower floor only admits more write revisions and more read pins.
    /// </summary>
    private static bool Dominates(in ModelState a, in ModelState b) =>
        a.Value == b.Value && a.Rev == b.Rev && a.Floor <= b.Floor;

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

                if (!_strictModel)
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

                // First read of a value written by an unanswered write pins down that write's revision. It must
                // fit below the next answered write, and cannot be a revision an answered write was given.
                if (o.ModRevision < s.Floor || o.ModRevision >= NextAnsweredRevision() || _answeredRevisions.Contains(o.ModRevision))
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

    /// <summary>Strict: revision of the next answered write in rank order; anything unanswered must fit below it.</summary>
    private long NextAnsweredRevision() =>
        _writesDone < _revisionByRank.Length ? _revisionByRank[_writesDone] : long.MaxValue;

    private void ComputeOrderHints()
    {
        _previousIdentical = new int[_ops.Length];
        Array.Fill(_previousIdentical, -1);
        _pendingCasByExpected.Clear();
        for (int i = _answered; i < _ops.Length; i++)
        {
            if (_ops[i].Kind == OperationKind.CompareAndSwap)
            {
                if (!_pendingCasByExpected.TryGetValue(_expected[i], out List<int>? list))
                {
                    list = [];
                    _pendingCasByExpected.Add(_expected[i], list);
                }

                list.Add(i);
            }
        }

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
        _revisionByRank = new long[writes.Count];
        _answeredRevisions.Clear();
        for (int k = 0; k < writes.Count; k++)
        {
            _writeRank[writes[k]] = k;
            _revisionByRank[k] = _ops[writes[k]].ModRevision;
            _answeredRevisions.Add(_revisionByRank[k]);
        }

        // Search-order hints: where the answers' revisions place an op in the store's own order (writes at
        // 2*rev, observations just after the write they saw). Trying candidates in this order finds the real
        // linearization almost without backtracking when the revisions are right; when they are wrong or
        // absent (all 0) the order falls back to invocation order. Completeness never depends on it.
        _hint = new long[_ops.Length];
        for (int i = 0; i < _answered; i++)
        {
            HistoryOperation op = _ops[i];
            _hint[i] = _writeRank[i] >= 0 ? HintAt(op.ModRevision, 0)
                : op.Kind == OperationKind.Get && op.ReadValue is not null ? HintAt(op.ModRevision, 1)
                : HintAt(op.HeaderRevision, 1);
        }

        // Saturating, so that absurd revisions cannot overflow into the "no hint" value or go negative.
        static long HintAt(long revision, int after) =>
            revision <= 0 ? after : revision >= (long.MaxValue / 2) - 2 ? long.MaxValue - 2 : (2 * revision) + after;

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
        long replayedRev = 0; // Strict: mod revision of the replayed value, UnknownRevision after an unanswered write
        foreach (int i in order)
        {
            HistoryOperation op = _ops[i];
            if (!Holds(i, replayed, replayedRev))
            {
                int fix = -1;
                for (int p = _answered; p < _ops.Length; p++)
                {
                    if (_hint[p] == long.MaxValue && _ops[p].InvokeTime <= op.CompleteTime!.Value
                        && ReplayEffect(p, replayed) is int v && Holds(i, v, UnknownRevision)
                        && (v != replayed || (_strictModel && v != Absent))
                        && (fix < 0 || _ops[p].InvokeTime >= _ops[fix].InvokeTime))
                    {
                        fix = p;
                    }
                }

                if (fix < 0 && op.Kind == OperationKind.Get && _read[i] != Absent)
                {
                    // The replay itself may be off (e.g. an earlier lost write it did not place); a lost write
                    // of the value read is still the best guess for what this read saw.
                    for (int p = _answered; p < _ops.Length; p++)
                    {
                        if (_hint[p] == long.MaxValue && _ops[p].Kind != OperationKind.Delete && _value[p] == _read[i]
                            && _ops[p].InvokeTime <= op.CompleteTime!.Value
                            && (fix < 0 || _ops[p].InvokeTime >= _ops[fix].InvokeTime))
                        {
                            fix = p;
                        }
                    }
                }

                if (fix >= 0)
                {
                    // Identical unanswered ops are used in call order (see TryLinearize), so the hint goes to
                    // the earliest unused one of the class.
                    while (_previousIdentical[fix] >= 0 && _hint[_previousIdentical[fix]] == long.MaxValue)
                    {
                        fix = _previousIdentical[fix];
                    }

                    _hint[fix] = _hint[i] - 1;
                    replayed = ReplayEffect(fix, replayed) ?? _value[fix];
                    replayedRev = replayed == Absent ? 0 : UnknownRevision;
                }
            }

            if (_writeRank[i] >= 0)
            {
                replayed = op.Kind == OperationKind.Delete ? Absent : _value[i];
                replayedRev = replayed == Absent ? 0 : op.ModRevision;
            }
            else if (op.Kind == OperationKind.Get)
            {
                replayed = _read[i];
                replayedRev = op.ModRevision;
            }
            else if (op.Kind == OperationKind.Delete)
            {
                replayed = Absent;
                replayedRev = 0;
            }
        }
    }

    /// <summary>
    /// Whether the answer of answered op <paramref name="op"/> holds when the key has <paramref name="value"/>
    /// (in Strict, at mod revision <paramref name="rev"/>; <see cref="UnknownRevision"/> matches any).
    /// </summary>
    private bool Holds(int op, int value, long rev)
    {
        HistoryOperation o = _ops[op];
        return o.Kind switch
        {
            OperationKind.Get => _read[op] == value
                && (!_strictModel || value == Absent || rev == UnknownRevision || rev == o.ModRevision),
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
        if (!_strictModel)
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
            // The write consumed some revision above the floor, which must leave room below the next answered write.
            after.Rev = value == Absent ? 0 : UnknownRevision;
            after.Floor = s.Floor + 1;
            return after.Floor < NextAnsweredRevision();
        }

        return true;
    }

    private ReadOnlySpan<ulong> Encode(in ModelState s)
    {
        ulong[] buffer = _keyBuffer;
        int length = 0;
        buffer[length++] = (ulong)(long)s.Value;
        if (_strictModel)
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

    private string Explain(int bestDepth, int blockingOp, ModelState state, int[] tail, int writesDone)
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
        if (_strictModel && _writeRank[blockingOp] > writesDone)
        {
            int due = Array.IndexOf(_writeRank, writesDone);
            sb.Append(" In Strict a key's writes take effect in the order of their answered revisions, so it would first need ")
                .Append(Describe.Op(_ops[due])).Append('.');
        }
        return sb.ToString();
    }

    private string DescribeState(ModelState s)
    {
        string value = s.Value == Absent ? "no value" : "value " + Describe.Value(_values[s.Value]);
        if (!_strictModel)
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
