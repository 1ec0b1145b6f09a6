namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class TraceHashTests
{
    [TestMethod]
    public void EmptyHashIsTheFnvOffsetBasis() => Assert.AreEqual("cbf29ce484222325", new TraceHash().ToHex());

    [TestMethod]
    public void ValueIsPinnedAcrossMachines()
    {
        // tag 1 + 42 as 8 little-endian bytes, then tag 3 + length 2 (4 LE bytes) + "hi", FNV-1a 64, computed in Python.
        Assert.AreEqual("b3c78a4c0c1b2602", new TraceHash().Add(42L).Add("hi").ToHex());
    }

    [TestMethod]
    public void TokensAreTypedAndDelimited()
    {
        Assert.AreNotEqual(new TraceHash().Add("ab").Add("c").Value, new TraceHash().Add("a").Add("bc").Value);
        Assert.AreNotEqual(new TraceHash().Add(1L).Value, new TraceHash().Add(1UL).Value);
        Assert.AreNotEqual(new TraceHash().Add(1L).Add(2L).Value, new TraceHash().Add(2L).Add(1L).Value);
        Assert.AreEqual(new TraceHash().Add("héllo").Value, new TraceHash().Add("héllo").Value);
        Assert.AreEqual(2L, new TraceHash().Add(1L).Add("x").TokenCount);
    }

    [TestMethod]
    public void LongStringsHashLikeAnyOther()
    {
        string big = new('x', 10_000);
        Assert.AreEqual(new TraceHash().Add(big).Value, new TraceHash().Add(big).Value);
        Assert.AreNotEqual(new TraceHash().Add(big).Value, new TraceHash().Add(big + "y").Value);
    }
}
