using CurpStore.Faults;

namespace CurpStore.Faults.Tests;

/// <summary>The CI fault runs: real member processes, each in a network namespace of the WAN rig (so partitions cut
/// links both ways; needs root, as the rig's tests), under the seeded nemesis; the histories must be
/// linearizable, no acknowledged write lost, the watches clean. A failure prints the seed: <c>dotnet run -c Release
/// --project geo-sim/Faults -- --seed N ...</c> replays the schedule.</summary>
[TestClass]
public sealed class FaultRunTests
{
    /// <summary>Fixed so that CI runs the same schedule every time; it puts every fault kind (the four partition kinds
    /// among them) in the first nine steps, as every seed does.</summary>
    private const int CiSeed = 20261121;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task TwoMinutesOfEveryFaultKind_ThreeMembers_EffectsOnlyLinearizable_NoLostWrites_CleanWatches()
    {
        var verdict = await RunAsync(new FaultOptions(Members: 3, Seconds: 120, Seed: CiSeed, StrictRevisions: false));
        Assert.IsTrue(verdict.Passed, verdict.Describe());
        CollectionAssert.IsSubsetOf(Enum.GetValues<NemesisKind>(), verdict.Done.Select(s => s.Kind).Distinct().ToArray(),
            $"every fault kind must have been injected at least once\n{verdict.Describe()}");
        Assert.IsEmpty(verdict.NemesisFailures, verdict.Describe());
        Assert.IsGreaterThan(1_000, verdict.Acknowledged, $"the clients made progress\n{verdict.Describe()}");
    }

    [TestMethod]
    public async Task StrictRevisions_FiveMembers_StrictModelLinearizable_NoLostWrites_CleanWatches()
    {
        // Five members, so that the splits are 2|3; this seed's schedule starts with a pause, then the leader and one
        // other member cut off from the other three.
        var verdict = await RunAsync(new FaultOptions(Members: 5, Seconds: 60, Seed: CiSeed + 1, StrictRevisions: true));
        Assert.IsTrue(verdict.Strict.IsLinearizable, verdict.Describe());
        Assert.IsTrue(verdict.Passed, verdict.Describe());
        Assert.Contains(NemesisKind.SplitLeaderInMinority, verdict.Done.Select(s => s.Kind).ToList(), verdict.Describe());
    }

    private async Task<FaultVerdict> RunAsync(FaultOptions options)
    {
        var verdict = await FaultRun.RunAsync(options, line => TestContext.WriteLine(line));
        TestContext.WriteLine(verdict.Describe());
        return verdict;
    }
}
