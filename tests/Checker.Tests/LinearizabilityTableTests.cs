namespace CurpStore.Checker.Tests;

/// <summary>One hand-written history and the verdict expected under each consistency model.</summary>
/// <param name="History">The history to check.</param>
/// <param name="EffectsOnlyValid">Expected verdict under <see cref="ConsistencyModel.EffectsOnly"/>.</param>
/// <param name="StrictValid">Expected verdict under <see cref="ConsistencyModel.Strict"/>.</param>
/// <param name="ViolationKey">For invalid cases: the key the (first) violation must be reported on.</param>
/// <param name="BlamedOpId">For invalid cases: an operation id the violation text must name.</param>
public sealed record HistoryCase(
    IReadOnlyList<HistoryOperation> History,
    bool EffectsOnlyValid,
    bool StrictValid,
    string? ViolationKey = null,
    long? BlamedOpId = null);

[TestClass]
public sealed class LinearizabilityTableTests
{
    public static IEnumerable<TestDataRow<HistoryCase>> Cases()
    {
        yield return Row(
            "sequential history over every operation kind is valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Get("x", "1", 2, 3, rev: 1)
                    .Put("x", "2", 4, 5, rev: 2)
                    .Cas("x", "2", "3", true, 6, 7, rev: 3)
                    .Cas("x", "2", "4", false, 8, 9)
                    .Delete("x", true, 10, 11, rev: 4)
                    .Get("x", null, 12, 13)
                    .Delete("x", false, 14, 15)
                    .Cas("x", null, "5", true, 16, 17, rev: 5)
                    .Get("x", "5", 18, 19, rev: 5)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "overlapping writes with reads that fit only the order b then a are valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "a", 0, 10, rev: 2, client: 1)
                    .Put("x", "b", 1, 11, rev: 1, client: 2)
                    .Get("x", "b", 5, 6, rev: 1, client: 3)
                    .Get("x", "a", 12, 13, rev: 2, client: 3)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "overlapping writes observed in both orders after both completed are a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "a", 0, 10, rev: 1, client: 1)
                    .Put("x", "b", 1, 11, rev: 2, client: 2)
                    .Get("x", "b", 12, 13, rev: 2, client: 3)
                    .Get("x", "a", 14, 15, rev: 1, client: 3)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 4));

        yield return Row(
            "stale read after a newer write completed is a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Put("x", "2", 2, 3, rev: 2)
                    .Get("x", "1", 4, 5, rev: 1, client: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 3));

        yield return Row(
            "lost acknowledged write (later read sees nothing) is a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Get("x", null, 2, 3, client: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "two successful compare-and-swaps from the same expected value are a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "0", 0, 1, rev: 1)
                    .Cas("x", "0", "a", true, 2, 5, rev: 2, client: 1)
                    .Cas("x", "0", "b", true, 3, 6, rev: 3, client: 2)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "unanswered write that took effect and was read later is valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Put("x", "2", 2, null, client: 1)
                    .Get("x", "2", 10, 11, rev: 7, client: 2)
                    .Get("x", "2", 12, 13, rev: 7, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "unanswered write that never took effect is valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Put("x", "2", 2, null, client: 1)
                    .Get("x", "1", 10, 11, rev: 1, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "unanswered delete and compare-and-swap that took effect are valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Delete("x", false, 2, null, client: 1)
                    .Get("x", null, 5, 6, client: 2)
                    .Cas("x", null, "2", false, 7, null, client: 1)
                    .Get("x", "2", 9, 10, rev: 4, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "unanswered write read with a revision not above the previous write is a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 5)
                    .Put("x", "2", 2, null, client: 1)
                    .Get("x", "2", 10, 11, rev: 5, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 3));

        yield return Row(
            "read reporting a revision other than the answered one is a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 5)
                    .Get("x", "1", 2, 3, rev: 6, client: 1)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "read reporting the revision of an overwritten write of the same value is a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 5)
                    .Put("x", "2", 2, 3, rev: 6)
                    .Put("x", "1", 4, 5, rev: 7)
                    .Get("x", "1", 6, 7, rev: 5, client: 1)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 4));

        yield return Row(
            "answered write revisions going backwards along one key are a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 5)
                    .Put("x", "2", 2, 3, rev: 4)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "concurrent writes on different keys sharing a revision are a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("a", "1", 0, 1, rev: 1, client: 1)
                    .Put("b", "1", 0, 1, rev: 1, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "*",
                BlamedOpId: 2));

        yield return Row(
            "write on another key started after a completed write but given a lower revision is a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("a", "1", 0, 1, rev: 2, client: 1)
                    .Put("b", "1", 2, 3, rev: 1, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "*",
                BlamedOpId: 2));

        yield return Row(
            "read on another key started after a completed write but with a lower header revision is a strict violation only",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("a", "1", 0, 1, rev: 5, client: 1)
                    .Get("b", null, 2, 3, client: 2, header: 4)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: false,
                ViolationKey: "*",
                BlamedOpId: 2));

        yield return Row(
            "writes on different keys with revisions inverted while overlapping are valid",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("a", "1", 0, 3, rev: 2, client: 1)
                    .Put("b", "1", 3, 4, rev: 1, client: 2)
                    .Build(),
                EffectsOnlyValid: true,
                StrictValid: true));

        yield return Row(
            "failed delete on a key that exists is a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Delete("x", false, 2, 3, client: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "failed compare-and-swap whose expected value was current is a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Cas("x", "1", "2", false, 2, 3, client: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "read of a value nobody wrote is a violation naming the read",
            new HistoryCase(
                new HistoryBuilder()
                    .Put("x", "1", 0, 1, rev: 1)
                    .Get("x", "garbage", 2, 3, rev: 1, client: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 2));

        yield return Row(
            "read of a value whose write started only after the read returned is a violation",
            new HistoryCase(
                new HistoryBuilder()
                    .Get("x", "1", 0, 1, rev: 1, client: 1)
                    .Put("x", "1", 2, 3, rev: 1)
                    .Build(),
                EffectsOnlyValid: false,
                StrictValid: false,
                ViolationKey: "x",
                BlamedOpId: 1));
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void EffectsOnlyVerdictMatchesTable(HistoryCase c) =>
        AssertVerdict(c, ConsistencyModel.EffectsOnly, c.EffectsOnlyValid);

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void StrictVerdictMatchesTable(HistoryCase c) =>
        AssertVerdict(c, ConsistencyModel.Strict, c.StrictValid);

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void VerdictDoesNotDependOnInputOrder(HistoryCase c)
    {
        var checker = new LinearizabilityChecker(ConsistencyModel.Strict);
        CheckResult forward = checker.Check(c.History);
        CheckResult reversed = checker.Check([.. c.History.Reverse()]);
        Assert.AreEqual(forward.IsLinearizable, reversed.IsLinearizable);
        CollectionAssert.AreEqual(forward.Violations.ToList(), reversed.Violations.ToList());
    }

    private static void AssertVerdict(HistoryCase c, ConsistencyModel model, bool expectValid)
    {
        CheckResult result = new LinearizabilityChecker(model).Check(c.History);
        string report = string.Join(Environment.NewLine, result.Violations.Select(v => $"[{v.Key}] {v.Description}"));
        Assert.IsEmpty(result.UnknownKeys, "small histories must always be decided");
        Assert.AreEqual(expectValid, result.IsLinearizable, report);
        if (expectValid)
        {
            return;
        }

        Violation? blamed = result.Violations.FirstOrDefault(v => v.Key == c.ViolationKey);
        Assert.IsNotNull(blamed, $"expected a violation on key '{c.ViolationKey}': {report}");
        if (c.BlamedOpId is long id)
        {
            StringAssert.Contains(blamed.Description, $"#{id} ", report);
        }
    }

    private static TestDataRow<HistoryCase> Row(string name, HistoryCase c) => new(c) { DisplayName = name };
}
