using System.Text;
using CurpStore.GeoSim.Cluster;

namespace CurpStore.Curp.Tests;

[TestClass]
public sealed class ConflictIndexTests
{
    private sealed record RangeCommand(ProposeId Id, KeyRange Range, bool IsReadOnly = false) : ICommand
    {
        public IReadOnlyList<KeyRange> KeyRanges => [Range];
    }

    private static PooledCommand Pooled(ulong sequence, KeyRange range) => new(new RangeCommand(new ProposeId(1, sequence), range), 0, 0);

    private static KeyRange Key(string key) => KeyRange.Single(Encoding.UTF8.GetBytes(key));

    [TestMethod]
    public void SingleKeysAndRanges_ConflictBothWays_AndLeaveNoTraceWhenRemoved()
    {
        var index = new ConflictIndex(16);
        Assert.IsTrue(index.Add(Pooled(1, Key("a/1"))));
        Assert.IsTrue(index.Add(Pooled(2, KeyRange.Prefix(Encoding.UTF8.GetBytes("b/")))));

        Assert.IsTrue(index.Conflicts(new RangeCommand(new ProposeId(2, 1), Key("a/1"))));
        Assert.IsTrue(index.Conflicts(new RangeCommand(new ProposeId(2, 1), KeyRange.Prefix(Encoding.UTF8.GetBytes("a/")))));
        Assert.IsTrue(index.Conflicts(new RangeCommand(new ProposeId(2, 1), Key("b/x"))));
        Assert.IsFalse(index.Conflicts(new RangeCommand(new ProposeId(2, 1), Key("a/2"))));
        Assert.IsFalse(index.Conflicts(new RangeCommand(new ProposeId(1, 1), Key("a/1"))), "a command does not conflict with itself");

        Assert.IsTrue(index.Remove(new ProposeId(1, 1)));
        Assert.IsTrue(index.Remove(new ProposeId(1, 2)));
        Assert.IsFalse(index.Conflicts(new RangeCommand(new ProposeId(2, 1), KeyRange.FromKey([0]))));
        Assert.AreEqual(0, index.Count);
    }

    [TestMethod]
    public void ReadOnlyCommands_DoNotConflictWithEachOther()
    {
        var read = new KvCommand(new ProposeId(1, 1), KvOperation.Get, "k");
        var otherRead = new KvCommand(new ProposeId(2, 1), KvOperation.Get, "k");
        var write = new KvCommand(new ProposeId(3, 1), KvOperation.Put, "k", "v");
        Assert.IsFalse(CommandConflicts.Conflict(read, otherRead));
        Assert.IsTrue(CommandConflicts.Conflict(read, write));
    }

    [TestMethod]
    public void Capacity_IsABound()
    {
        var index = new ConflictIndex(2);
        index.Add(Pooled(1, Key("a")));
        index.Add(Pooled(2, Key("b")));
        Assert.IsTrue(index.IsFull);
    }
}
