using CurpStore.Faults;

namespace CurpStore.Faults.Tests;

[TestClass]
public sealed class WatchCheckerTests
{
    /// <summary>A clean history of two keys: a@2 v1, b@3 v1, a@4 v2, b@5 v2, a@6 v3.</summary>
    private static List<WatchedEvent> Clean() =>
    [
        Put("a", "a1", 2, 1, null, 0),
        Put("b", "b1", 3, 1, null, 0),
        Put("a", "a2", 4, 2, "a1", 2),
        Put("b", "b2", 5, 2, "b1", 3),
        Put("a", "a3", 6, 3, "a2", 4),
    ];

    private static readonly List<FinalKv> CleanFinal = [new("a", "a3", 6, 3), new("b", "b2", 5, 2)];

    private static WatchedEvent Put(string key, string value, long revision, long version, string? prev, long prevRevision) =>
        new(key, false, value, revision, version, prev, prevRevision);

    [TestMethod]
    public void ACleanStreamHasNoProblems()
    {
        Assert.IsEmpty(WatchChecker.CheckStream("w", Clean()));
        Assert.IsEmpty(WatchChecker.CompareToReference("w", Clean(), Clean()));
        Assert.IsEmpty(WatchChecker.CompareToFinalState(Clean(), CleanFinal));
    }

    [TestMethod]
    public void AGapIsFound()
    {
        var events = Clean();
        events.RemoveAt(2); // a@4 missing: a@6 comes with version 3 after version 1, and its prev_kv names a@4
        var problems = WatchChecker.CheckStream("w", events);
        Assert.IsTrue(problems.Any(p => p.Contains("has version 3, expected 2", StringComparison.Ordinal)), string.Join('\n', problems));
        var against = WatchChecker.CompareToReference("w", events, Clean());
        Assert.IsTrue(against.Any(p => p.Contains("a lacks revisions 4", StringComparison.Ordinal)), string.Join('\n', against));
    }

    [TestMethod]
    public void ADuplicateIsFound()
    {
        var events = Clean();
        events.Insert(3, events[2]);
        var problems = WatchChecker.CheckStream("w", events);
        Assert.IsTrue(problems.Any(p => p.Contains("a at revision 4 delivered twice", StringComparison.Ordinal)), string.Join('\n', problems));
    }

    [TestMethod]
    public void AWrongPrevKvIsFound()
    {
        var events = Clean();
        events[4] = events[4] with { PrevValue = "a1", PrevModRevision = 2 };
        var problems = WatchChecker.CheckStream("w", events);
        Assert.HasCount(1, problems);
        StringAssert.Contains(problems[0], "a at revision 6 has prev_kv 'a1' (revision 2), expected 'a2' (revision 4)");
    }

    [TestMethod]
    public void APrevKvOnACreateIsFound()
    {
        var events = Clean();
        events[0] = events[0] with { PrevValue = "ghost", PrevModRevision = 1 };
        var problems = WatchChecker.CheckStream("w", events);
        Assert.HasCount(1, problems);
        StringAssert.Contains(problems[0], "the key had no value");
    }

    [TestMethod]
    public void OutOfOrderEventsAreFound()
    {
        var events = Clean();
        (events[2], events[3]) = (events[3], events[2]); // b@5 before a@4
        var problems = WatchChecker.CheckStream("w", events);
        Assert.IsTrue(problems.Any(p => p.Contains("revision 4 (a) after revision 5: out of order", StringComparison.Ordinal)), string.Join('\n', problems));

        var sameKey = Clean();
        (sameKey[2], sameKey[4]) = (sameKey[4], sameKey[2]); // a@6 before a@4
        var sameKeyProblems = WatchChecker.CheckStream("w", sameKey);
        Assert.IsTrue(sameKeyProblems.Any(p => p.Contains("a at revision 4 after its revision 6: out of order", StringComparison.Ordinal)), string.Join('\n', sameKeyProblems));
    }

    [TestMethod]
    public void AStreamDisagreeingWithTheReferenceIsFound()
    {
        var events = Clean();
        events[3] = events[3] with { Value = "other" };
        var problems = WatchChecker.CompareToReference("w", events, Clean());
        Assert.HasCount(1, problems);
        StringAssert.Contains(problems[0], "b at revision 5 is 'other', the reference says 'b2'");

        var extra = Clean();
        extra.Add(Put("b", "b3", 7, 3, "b2", 5));
        StringAssert.Contains(WatchChecker.CompareToReference("w", extra, Clean()).Single(), "b has revisions 7 the reference does not");
    }

    [TestMethod]
    public void AReferenceDisagreeingWithTheFinalReadIsFound()
    {
        var problems = WatchChecker.CompareToFinalState(Clean(), [new("a", "a3", 6, 3), new("b", "b9", 9, 3), new("c", "c1", 8, 1)]);
        Assert.HasCount(2, problems);
        StringAssert.Contains(problems[0], "b's last event is 'b2' (revision 5, version 2), the range read says 'b9' (revision 9, version 3)");
        StringAssert.Contains(problems[1], "c = 'c1' (revision 8) was never watched");
    }

    [TestMethod]
    public void LostAndDoubledWritesAreFound()
    {
        Assert.IsEmpty(WatchChecker.LostOrDoubledWrites([("a", "a2"), ("b", "b2")], Clean()));
        var lost = WatchChecker.LostOrDoubledWrites([("a", "a2"), ("b", "b7")], Clean());
        Assert.HasCount(1, lost);
        StringAssert.Contains(lost[0], "lost acknowledged write: b = 'b7'");

        var doubled = Clean();
        doubled.Add(Put("a", "a2", 7, 4, "a3", 6));
        var twice = WatchChecker.LostOrDoubledWrites([], doubled);
        Assert.HasCount(1, twice);
        StringAssert.Contains(twice[0], "a = 'a2' applied 2 times (revisions 4,7)");
    }
}
