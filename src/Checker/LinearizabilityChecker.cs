using System.Globalization;

namespace CurpStore.Checker;

/// <summary>
/// Judges whether a recorded client history of the KV store is linearizable with respect to an
/// etcd-like model with one global revision counter.
/// </summary>
/// <remarks>
/// <para>
/// Linearizability is compositional (Herlihy &amp; Wing), so the history is split per key and each key is
/// searched on its own: this turns one exponential search over 100k operations into thousands of tiny
/// ones plus a few hot keys. Each per-key search is bounded by <c>maxStatesPerKey</c>; a key that hits
/// the bound is reported in <see cref="CheckResult.UnknownKeys"/> and makes the result non-passing,
/// because a checker that silently passes what it could not decide hides exactly the bugs it exists for.
/// </para>
/// <para>
/// Revisions are global, so in <see cref="ConsistencyModel.Strict"/> the per-key searches are complemented
/// by cross-key checks over answered operations (uniqueness of write revisions, real-time order of revisions,
/// header revisions). Those are necessary conditions rather than a full global search, which keeps the cost
/// near-linear while still catching the revision bugs a fast-path/slow-path protocol is prone to.
/// </para>
/// <para>
/// The initial store is empty. Output is deterministic: keys are processed in ordinal order and every
/// tie in time is broken by operation id, then by position in the input.
/// </para>
/// </remarks>
public sealed class LinearizabilityChecker
{
    /// <summary>Cap on reported instances of one cross-key check, so one bad write does not flood a report.</summary>
    private const int MaxReportedPerCheck = 10;

    private readonly ConsistencyModel _model;
    private readonly int _maxStatesPerKey;

    /// <summary>Creates a checker.</summary>
    /// <param name="model">Whether revisions are part of what must be consistent.</param>
    /// <param name="maxStatesPerKey">
    /// Distinct search states allowed per key before its verdict becomes unknown. Memory is roughly
    /// proportional to it (tens of bytes per state for typical concurrency).
    /// </param>
    public LinearizabilityChecker(ConsistencyModel model, int maxStatesPerKey = 1_000_000)
    {
        if (!Enum.IsDefined(model))
        {
            throw new ArgumentOutOfRangeException(nameof(model), model, "unknown consistency model");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxStatesPerKey, 1);
        _model = model;
        _maxStatesPerKey = maxStatesPerKey;
    }

    /// <summary>Checks <paramref name="history"/>; throws <see cref="ArgumentException"/> on malformed operations.</summary>
    public CheckResult Check(IReadOnlyList<HistoryOperation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < history.Count; i++)
        {
            HistoryOperation op = history[i];
            Validate(op, i);
            if (!byKey.TryGetValue(op.Key, out List<int>? indices))
            {
                indices = [];
                byKey.Add(op.Key, indices);
            }

            indices.Add(i);
        }

        string[] keys = [.. byKey.Keys];
        Array.Sort(keys, StringComparer.Ordinal);

        bool strict = _model == ConsistencyModel.Strict;
        var search = new PartitionSearch(strict, _maxStatesPerKey);
        var violations = new List<Violation>();
        var unknown = new List<string>();
        long states = 0;
        foreach (string key in keys)
        {
            PartitionOutcome outcome = search.Run(history, byKey[key]);
            states += outcome.States;
            switch (outcome.Verdict)
            {
                case PartitionVerdict.Violation:
                    violations.AddRange(outcome.Descriptions.Select(d => new Violation(key, d)));
                    break;
                case PartitionVerdict.Unknown:
                    unknown.Add(key);
                    break;
            }
        }

        if (strict)
        {
            CheckRevisions(history, violations);
        }

        return new CheckResult(violations.AsReadOnly(), unknown.AsReadOnly(), states, keys.Length);
    }

    private static void Validate(HistoryOperation? op, int index)
    {
        if (op is null)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"history[{index}] is null"), "history");
        }

        string? problem = null;
        if (op.Key is null)
        {
            problem = "has no key";
        }
        else if (!Enum.IsDefined(op.Kind))
        {
            problem = "has an unknown kind";
        }
        else if (op.CompleteTime < op.InvokeTime)
        {
            problem = "completes before it is invoked";
        }
        else if (op.Value is null && op.Kind is OperationKind.Put or OperationKind.CompareAndSwap)
        {
            problem = "writes no value";
        }

        if (problem is not null)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"operation #{op.Id} (history[{index}]) {problem}"), "history");
        }
    }

    private static bool IsAnsweredWrite(HistoryOperation op) =>
        op.CompleteTime.HasValue
        && (op.Kind == OperationKind.Put
            || (op.Kind is OperationKind.Delete or OperationKind.CompareAndSwap && op.Succeeded));

    /// <summary>
    /// Cross-key revision checks over answered operations. Real-time order is "A completed strictly
    /// before B was invoked"; a write answered with revision r means the store had reached r by then,
    /// so anything started afterwards must see at least r and any later write must get more.
    /// </summary>
    private static void CheckRevisions(IReadOnlyList<HistoryOperation> history, List<Violation> violations)
    {
        var answered = new List<int>();
        var writes = new List<int>();
        for (int i = 0; i < history.Count; i++)
        {
            if (history[i].CompleteTime.HasValue)
            {
                answered.Add(i);
                if (IsAnsweredWrite(history[i]))
                {
                    writes.Add(i);
                }
            }
        }

        int ByInvoke(int a, int b)
        {
            int c = history[a].InvokeTime.CompareTo(history[b].InvokeTime);
            if (c == 0)
            {
                c = history[a].Id.CompareTo(history[b].Id);
            }

            return c != 0 ? c : a.CompareTo(b);
        }

        var report = new Reporter(violations);

        // Two answered writes with one revision: in the single-key model every write is its own revision.
        var byRevision = new List<int>(writes);
        byRevision.Sort((a, b) =>
        {
            int c = history[a].ModRevision.CompareTo(history[b].ModRevision);
            return c != 0 ? c : ByInvoke(a, b);
        });
        for (int start = 0; start < byRevision.Count;)
        {
            int end = start + 1;
            long rev = history[byRevision[start]].ModRevision;
            while (end < byRevision.Count && history[byRevision[end]].ModRevision == rev)
            {
                end++;
            }

            if (end - start > 1)
            {
                IEnumerable<string> ops = byRevision.Skip(start).Take(end - start).Select(i => Describe.Op(history[i]));
                report.Add("duplicate-revision", string.Create(
                    CultureInfo.InvariantCulture,
                    $"{end - start} answered writes share revision {rev}: {string.Join("; ", ops)}"));
            }

            start = end;
        }

        // A read's header is the store revision it was served at, which cannot be below what it read.
        answered.Sort(ByInvoke);
        foreach (int i in answered)
        {
            HistoryOperation op = history[i];
            if (op.Kind == OperationKind.Get && op.HeaderRevision < op.ModRevision)
            {
                report.Add("header-below-read", string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Describe.Op(op)} has a header revision below the mod_revision it read"));
            }
        }

        // Real-time order: sweep operations by invocation while admitting writes by completion.
        writes.Sort((a, b) =>
        {
            int c = history[a].CompleteTime!.Value.CompareTo(history[b].CompleteTime!.Value);
            return c != 0 ? c : ByInvoke(a, b);
        });
        int admitted = 0;
        int highest = -1;
        foreach (int i in answered)
        {
            HistoryOperation op = history[i];
            while (admitted < writes.Count && history[writes[admitted]].CompleteTime!.Value < op.InvokeTime)
            {
                int w = writes[admitted++];
                if (highest < 0 || history[w].ModRevision > history[highest].ModRevision)
                {
                    highest = w;
                }
            }

            if (highest < 0)
            {
                continue;
            }

            HistoryOperation before = history[highest];
            if (IsAnsweredWrite(op) && op.ModRevision <= before.ModRevision)
            {
                report.Add("write-order", string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Describe.Op(op)} was invoked after {Describe.Op(before)} completed, but its revision is not higher"));
            }

            if (op.HeaderRevision < before.ModRevision)
            {
                report.Add("stale-header", string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Describe.Op(op)} was invoked after {Describe.Op(before)} completed, but its header revision is lower"));
            }
        }

        report.Flush();
    }

    /// <summary>Adds cross-key violations, capping each check and summarising the rest.</summary>
    private sealed class Reporter(List<Violation> violations)
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly List<string> _order = [];

        public void Add(string check, string description)
        {
            _counts.TryGetValue(check, out int count);
            if (count == 0)
            {
                _order.Add(check);
            }

            _counts[check] = count + 1;
            if (count < MaxReportedPerCheck)
            {
                violations.Add(new Violation("*", description));
            }
        }

        public void Flush()
        {
            foreach (string check in _order)
            {
                int extra = _counts[check] - MaxReportedPerCheck;
                if (extra > 0)
                {
                    violations.Add(new Violation("*", string.Create(
                        CultureInfo.InvariantCulture,
                        $"... and {extra} more {check} violations")));
                }
            }
        }
    }
}
