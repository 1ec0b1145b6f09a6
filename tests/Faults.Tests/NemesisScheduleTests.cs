using CurpStore.Faults;

namespace CurpStore.Faults.Tests;

[TestClass]
public sealed class NemesisScheduleTests
{
    [TestMethod]
    public void TheSameSeedDrawsTheSameSchedule()
    {
        var first = NemesisSchedule.Draw(42, 3, 600_000);
        var again = NemesisSchedule.Draw(42, 3, 600_000);
        CollectionAssert.AreEqual(first.ToList(), again.ToList());
        Assert.AreEqual(NemesisSchedule.Describe(first), NemesisSchedule.Describe(again));
    }

    [TestMethod]
    public void AnotherSeedDrawsAnotherSchedule()
    {
        var one = NemesisSchedule.Draw(1, 5, 600_000);
        var two = NemesisSchedule.Draw(2, 5, 600_000);
        CollectionAssert.AreNotEqual(one.ToList(), two.ToList());
    }

    [TestMethod]
    public void TheFirstStepsAreEveryKindOnce_WhenTheRunIsLongEnough()
    {
        var kinds = Enum.GetValues<NemesisKind>();
        // Each step takes at most MaxGapMs + MaxDurationMs + StepOverheadMs of the budget.
        var budgetMs = kinds.Length * (NemesisSchedule.MaxGapMs + NemesisSchedule.MaxDurationMs + NemesisSchedule.StepOverheadMs);
        for (var seed = 0; seed < 50; seed++)
        {
            var steps = NemesisSchedule.Draw(seed, 3, budgetMs);
            Assert.IsGreaterThanOrEqualTo(kinds.Length, steps.Count, $"seed {seed}");
            CollectionAssert.AreEquivalent(kinds, steps.Take(kinds.Length).Select(s => s.Kind).ToArray(), $"seed {seed}");
        }
    }

    [TestMethod]
    public void StepsStayWithinTheirBoundsAndTheBudget()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var budgetMs = 120_000;
            var steps = NemesisSchedule.Draw(seed, 5, budgetMs);
            Assert.IsTrue(steps.All(s => s.Target is >= 0 and < 5), $"seed {seed}: a target outside the cluster");
            Assert.IsTrue(steps.All(s => s.GapBeforeMs is >= NemesisSchedule.MinGapMs and <= NemesisSchedule.MaxGapMs), $"seed {seed}: a gap out of bounds");
            Assert.IsTrue(steps.All(s => s.DurationMs is >= NemesisSchedule.MinDurationMs and <= NemesisSchedule.MaxDurationMs), $"seed {seed}: a duration out of bounds");
            Assert.IsLessThanOrEqualTo(budgetMs, steps.Sum(s => s.GapBeforeMs + s.DurationMs + NemesisSchedule.StepOverheadMs), $"seed {seed}");
            CollectionAssert.AreEqual(Enumerable.Range(0, steps.Count).ToArray(), steps.Select(s => s.Index).ToArray());
        }
    }

    [TestMethod]
    public void NoTimeMeansNoSteps() => Assert.IsEmpty(NemesisSchedule.Draw(3, 3, 0));
}
