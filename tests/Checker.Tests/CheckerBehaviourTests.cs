namespace CurpStore.Checker.Tests;

/// <summary>Effort bound, determinism, result shape and input validation.</summary>
[TestClass]
public sealed class CheckerBehaviourTests
{
    /// <summary>Six fully concurrent puts, then a read of one of them: several states are unavoidable.</summary>
    private static IReadOnlyList<HistoryOperation> ConcurrentPutsThenRead(string key)
    {
        var builder = new HistoryBuilder();
        for (int i = 0; i < 6; i++)
        {
            builder.Put(key, "v" + i, 0, 100, rev: i + 1, client: i);
        }

        return builder.Get(key, "v3", 101, 102, rev: 4, client: 9, header: 6).Build();
    }

    [TestMethod]
    public void HittingTheStateBoundReportsTheKeyAsUnknownAndNotLinearizable()
    {
        CheckResult result = new LinearizabilityChecker(ConsistencyModel.EffectsOnly, maxStatesPerKey: 3)
            .Check(ConcurrentPutsThenRead("hot"));

        CollectionAssert.AreEqual(new[] { "hot" }, result.UnknownKeys.ToArray());
        Assert.IsEmpty(result.Violations);
        Assert.IsFalse(result.IsLinearizable, "an undecided key must never count as passing");
    }

    [TestMethod]
    public void SameHistoryWithTheDefaultBoundIsDecidedLinearizable()
    {
        CheckResult result = new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check(ConcurrentPutsThenRead("hot"));

        Assert.IsEmpty(result.UnknownKeys);
        Assert.IsTrue(result.IsLinearizable);
    }

    [TestMethod]
    public void UnknownKeyDoesNotHideAViolationOnAnotherKey()
    {
        List<HistoryOperation> history = [.. ConcurrentPutsThenRead("hot")];
        history.Add(new HistoryOperation(100, 1, "cold", OperationKind.Put, "1", null, 200, 201, true, null, 10, 10));
        history.Add(new HistoryOperation(101, 2, "cold", OperationKind.Get, null, null, 202, 203, true, null, 0, 10));

        CheckResult result = new LinearizabilityChecker(ConsistencyModel.EffectsOnly, maxStatesPerKey: 3).Check(history);

        CollectionAssert.AreEqual(new[] { "hot" }, result.UnknownKeys.ToArray());
        Assert.HasCount(1, result.Violations);
        Assert.AreEqual("cold", result.Violations[0].Key);
        Assert.AreEqual(2, result.Partitions);
    }

    [TestMethod]
    public void ViolationsAreReportedInOrdinalKeyOrderRegardlessOfInputOrder()
    {
        var builder = new HistoryBuilder();
        foreach (string key in new[] { "b", "a", "B", "c" })
        {
            builder.Put(key, "1", 0, 1).Get(key, null, 2, 3, client: 1);
        }

        IReadOnlyList<HistoryOperation> history = builder.Build();
        CheckResult forward = new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check(history);
        CheckResult reversed = new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check([.. history.Reverse()]);

        CollectionAssert.AreEqual(new[] { "B", "a", "b", "c" }, forward.Violations.Select(v => v.Key).ToArray());
        CollectionAssert.AreEqual(forward.Violations.ToArray(), reversed.Violations.ToArray());
        Assert.AreEqual(forward.StatesExplored, reversed.StatesExplored);
    }

    [TestMethod]
    public void RepeatedChecksOfOneHistoryGiveIdenticalResults()
    {
        List<HistoryOperation> history = SimulatedStoreHistory.Generate(
            11, new HistoryShape(Clients: 8, OpsPerClient: 200, Keys: 5, HotKeyShare: 0.5, UnansweredRate: 0.05, ValueDomain: 2));
        var checker = new LinearizabilityChecker(ConsistencyModel.Strict);

        CheckResult first = checker.Check(history);
        CheckResult second = checker.Check(history);

        Assert.AreEqual(first.IsLinearizable, second.IsLinearizable);
        Assert.AreEqual(first.StatesExplored, second.StatesExplored);
        CollectionAssert.AreEqual(first.Violations.ToArray(), second.Violations.ToArray());
        CollectionAssert.AreEqual(first.UnknownKeys.ToArray(), second.UnknownKeys.ToArray());
    }

    [TestMethod]
    public void EmptyHistoryIsLinearizableWithNoPartitions()
    {
        CheckResult result = new LinearizabilityChecker(ConsistencyModel.Strict).Check([]);

        Assert.IsTrue(result.IsLinearizable);
        Assert.AreEqual(0, result.Partitions);
        Assert.AreEqual(0L, result.StatesExplored);
    }

    [TestMethod]
    public void KeyWithOnlyUnansweredOperationsIsLinearizable()
    {
        IReadOnlyList<HistoryOperation> history = new HistoryBuilder()
            .Put("x", "1", 0, null)
            .Get("x", null, 1, null, client: 1)
            .Delete("x", false, 2, null, client: 2)
            .Build();

        Assert.IsTrue(new LinearizabilityChecker(ConsistencyModel.Strict).Check(history).IsLinearizable);
    }

    [TestMethod]
    public void OperationCompletingBeforeItIsInvokedIsRejected()
    {
        IReadOnlyList<HistoryOperation> history = new HistoryBuilder().Put("x", "1", 5, 4).Build();

        ArgumentException error = Assert.ThrowsExactly<ArgumentException>(() => new LinearizabilityChecker(ConsistencyModel.Strict).Check(history));
        StringAssert.Contains(error.Message, "#1");
    }

    [TestMethod]
    public void PutWithoutAValueIsRejected()
    {
        var op = new HistoryOperation(7, 0, "x", OperationKind.Put, null, null, 0, 1, true, null, 1, 1);

        Assert.ThrowsExactly<ArgumentException>(() => new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check([op]));
    }

    [TestMethod]
    public void NonPositiveStateBoundIsRejected() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LinearizabilityChecker(ConsistencyModel.Strict, maxStatesPerKey: 0));
}
