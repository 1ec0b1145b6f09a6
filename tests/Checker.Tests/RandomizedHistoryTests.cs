namespace CurpStore.Checker.Tests;

/// <summary>
/// Histories produced by clients of a sequential simulated store (so linearizable by construction),
/// and the same histories after a single targeted corruption that makes them not linearizable.
/// </summary>
[TestClass]
public sealed class RandomizedHistoryTests
{
    private static readonly HistoryShape UniqueValues = new(Clients: 16, OpsPerClient: 250, Keys: 10, HotKeyShare: 0.3, UnansweredRate: 0.02, ValueDomain: 0);
    private static readonly HistoryShape FewValues = new(Clients: 16, OpsPerClient: 250, Keys: 10, HotKeyShare: 0.3, UnansweredRate: 0.02, ValueDomain: 3);

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    public void SimulatedStoreHistoryWithUniqueValuesIsLinearizableInBothModels(int seed) =>
        AssertLinearizableInBothModels(SimulatedStoreHistory.Generate(seed, UniqueValues));

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    public void SimulatedStoreHistoryWithRepeatedValuesIsLinearizableInBothModels(int seed) =>
        AssertLinearizableInBothModels(SimulatedStoreHistory.Generate(seed, FewValues));

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void ReadCorruptedToAnUnwrittenValueIsAViolationInBothModels(int seed)
    {
        List<HistoryOperation> history = SimulatedStoreHistory.Generate(seed, UniqueValues);
        HistoryOperation read = MiddleReadOfHotKey(history);
        List<HistoryOperation> corrupted = Replace(history, read, read with { ReadValue = "corrupted" });

        AssertViolationNaming(corrupted, ConsistencyModel.EffectsOnly, read.Key, read.Id);
        AssertViolationNaming(corrupted, ConsistencyModel.Strict, read.Key, read.Id);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void ReadCorruptedToAnOverwrittenValueIsAViolationInBothModels(int seed)
    {
        List<HistoryOperation> history = SimulatedStoreHistory.Generate(seed, UniqueValues);
        (HistoryOperation read, HistoryOperation staleWrite) = StaleCandidate(history);

        // The stale write's value was overwritten by a write that ran entirely between it and the read, and
        // values are unique, so no linearization lets the read see it; revision kept consistent with it.
        List<HistoryOperation> corrupted = Replace(
            history, read, read with { ReadValue = staleWrite.Value, ModRevision = staleWrite.ModRevision });

        AssertViolationNaming(corrupted, ConsistencyModel.EffectsOnly, read.Key, read.Id);
        AssertViolationNaming(corrupted, ConsistencyModel.Strict, read.Key, read.Id);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(5)]
    public void SecondCompareAndSwapWinnerFromAConsumedValueIsFoundBySearch(int seed)
    {
        List<HistoryOperation> history = SimulatedStoreHistory.Generate(seed, UniqueValues);

        // With unique values, the expected value of a successful compare-and-swap was written once and
        // consumed by that swap, so a second swap from it that starts after everything else cannot succeed.
        // No read is involved, so only the search (not the read prechecks) can find this.
        HistoryOperation winner = history.Last(o => o.Kind == OperationKind.CompareAndSwap && o.CompleteTime is not null && o.Succeeded && o.Expected is not null);
        long end = history.Max(o => o.CompleteTime ?? o.InvokeTime) + 10;
        long revision = history.Max(o => Math.Max(o.ModRevision, o.HeaderRevision)) + 1;
        var second = new HistoryOperation(
            history.Max(o => o.Id) + 1, 999, winner.Key, OperationKind.CompareAndSwap, "second-winner", winner.Expected,
            end, end + 1, Succeeded: true, ReadValue: null, ModRevision: revision, HeaderRevision: revision);
        List<HistoryOperation> corrupted = [.. history, second];

        AssertLinearizableInBothModels(history);
        AssertViolationNaming(corrupted, ConsistencyModel.EffectsOnly, winner.Key, second.Id);
        AssertViolationNaming(corrupted, ConsistencyModel.Strict, winner.Key, second.Id);
    }

    [TestMethod]
    public void HundredThousandOperationsOverThousandsOfKeysWithAHotKeyAreDecided()
    {
        // 64 concurrent clients, 2000 keys, about 5000 operations on the hot key, 1% lost answers.
        List<HistoryOperation> history = SimulatedStoreHistory.Generate(
            3, new HistoryShape(Clients: 64, OpsPerClient: 1600, Keys: 2000, HotKeyShare: 0.05, UnansweredRate: 0.01, ValueDomain: 0));
        Assert.HasCount(102_400, history);

        foreach (ConsistencyModel model in new[] { ConsistencyModel.EffectsOnly, ConsistencyModel.Strict })
        {
            CheckResult result = new LinearizabilityChecker(model).Check(history);
            Assert.IsTrue(result.IsLinearizable, Report(result));
            Assert.AreEqual(history.Select(o => o.Key).Distinct().Count(), result.Partitions);

            // Guided search should need about one state per operation, far below the per-key bound.
            Assert.IsLessThan(3L * history.Count, result.StatesExplored);
        }
    }

    private static void AssertLinearizableInBothModels(IReadOnlyList<HistoryOperation> history)
    {
        foreach (ConsistencyModel model in new[] { ConsistencyModel.EffectsOnly, ConsistencyModel.Strict })
        {
            CheckResult result = new LinearizabilityChecker(model).Check(history);
            Assert.IsEmpty(result.UnknownKeys, $"{model}: undecided keys");
            Assert.IsTrue(result.IsLinearizable, $"{model}: {Report(result)}");
        }
    }

    private static void AssertViolationNaming(IReadOnlyList<HistoryOperation> history, ConsistencyModel model, string key, long id)
    {
        CheckResult result = new LinearizabilityChecker(model).Check(history);
        Assert.IsFalse(result.IsLinearizable, $"{model}: corruption not detected");
        Assert.IsEmpty(result.UnknownKeys, $"{model}: a violation must be decided, not left unknown");
        Violation? violation = result.Violations.FirstOrDefault(v => v.Key == key);
        Assert.IsNotNull(violation, $"{model}: expected a violation on {key}: {Report(result)}");
        StringAssert.Contains(violation.Description, $"#{id} ");
    }

    private static HistoryOperation MiddleReadOfHotKey(List<HistoryOperation> history)
    {
        List<HistoryOperation> reads = [.. history.Where(o => o.Key == "k0" && o.Kind == OperationKind.Get && o.CompleteTime is not null && o.ReadValue is not null)];
        return reads[reads.Count / 2];
    }

    /// <summary>A read on the hot key and an answered write whose value was surely overwritten before the read.</summary>
    private static (HistoryOperation Read, HistoryOperation StaleWrite) StaleCandidate(List<HistoryOperation> history)
    {
        List<HistoryOperation> writes = [.. history.Where(o => o.Key == "k0" && o.CompleteTime is not null
            && (o.Kind == OperationKind.Put || (o.Kind is OperationKind.CompareAndSwap or OperationKind.Delete && o.Succeeded)))];
        List<HistoryOperation> reads = [.. history.Where(o => o.Key == "k0" && o.Kind == OperationKind.Get && o.CompleteTime is not null && o.ReadValue is not null)];
        foreach (HistoryOperation read in reads.Skip(reads.Count / 2))
        {
            HistoryOperation? overwrite = writes.Where(w => w.CompleteTime < read.InvokeTime).MaxBy(w => w.CompleteTime);
            HistoryOperation? stale = overwrite is null ? null : writes
                .Where(w => w.Kind != OperationKind.Delete && w.CompleteTime < overwrite.InvokeTime && w.Value != read.ReadValue
                    && (overwrite.Kind == OperationKind.Delete || overwrite.Value != w.Value))
                .MaxBy(w => w.CompleteTime);
            if (stale is not null)
            {
                return (read, stale);
            }
        }

        throw new InvalidOperationException("history has no stale-read candidate");
    }

    private static List<HistoryOperation> Replace(List<HistoryOperation> history, HistoryOperation old, HistoryOperation replacement) =>
        [.. history.Select(o => ReferenceEquals(o, old) ? replacement : o)];

    private static string Report(CheckResult result) =>
        $"unknown=[{string.Join(", ", result.UnknownKeys)}] " + string.Join(Environment.NewLine, result.Violations.Select(v => $"[{v.Key}] {v.Description}"));
}
