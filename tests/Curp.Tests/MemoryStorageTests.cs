using System.Collections.Immutable;

namespace CurpStore.Curp.Tests;

/// <summary>The in-memory copy of a member's persisted state: appends that replace a suffix, snapshots that drop a
/// prefix, pool changes.</summary>
[TestClass]
public sealed class MemoryStorageTests
{
    private static ImmutableArray<LogEntry> Entries(ulong from, ulong to, ulong term) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => new LogEntry((ulong)i, term, NoopPayload.Instance))];

    private static string Describe(PersistentState state) =>
        $"snap {state.Snapshot?.Index} [{string.Join(",", state.Entries.Select(e => $"{e.Index}/{e.Term}"))}]";

    [TestMethod]
    public void AppendsReplaceTheSuffixFromTheirFirstIndex_AndSnapshotsDropThePrefix()
    {
        var storage = new MemoryStorage();
        storage.Persist(new Ready { Entries = Entries(1, 10, 1) });
        storage.Persist(new Ready { Entries = Entries(6, 8, 2) }); // a new leader cut the follower's log back
        Assert.AreEqual("snap  [1/1,2/1,3/1,4/1,5/1,6/2,7/2,8/2]", Describe(storage.Load()));
        storage.Persist(new Ready { Entries = Entries(9, 9, 2) });
        storage.Persist(new Ready { Snapshot = new Snapshot(7, 2, Membership.Of([1UL]), SessionTableImage.Empty(1), new TestSnapshot()) });
        Assert.AreEqual("snap 7 [8/2,9/2]", Describe(storage.Load()));
        storage.Persist(new Ready { Snapshot = new Snapshot(12, 3, Membership.Of([1UL]), SessionTableImage.Empty(1), new TestSnapshot()) });
        Assert.AreEqual("snap 12 []", Describe(storage.Load()), "a snapshot past the whole log empties it");
        storage.Persist(new Ready { Entries = Entries(13, 14, 3) });
        storage.Persist(new Ready { Entries = Entries(1, 1, 4) }); // before every stored entry: replaces them all
        Assert.AreEqual("snap 12 [1/4]", Describe(storage.Load()));
    }

    private sealed class TestSnapshot : IStateSnapshot
    {
    }
}
