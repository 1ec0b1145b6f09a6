namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class LatencySamplesTests
{
    [TestMethod]
    public void PercentilesUseNearestRank()
    {
        var samples = new LatencySamples();
        foreach (int ms in Enumerable.Range(1, 100).Reverse())
        {
            samples.Add(ms);
        }

        Assert.AreEqual(100, samples.Count);
        Assert.AreEqual(50.0, samples.Median());
        Assert.AreEqual(99.0, samples.Percentile(99));
        Assert.AreEqual(100.0, samples.Percentile(100));
        Assert.AreEqual(1.0, samples.Percentile(0));
        Assert.AreEqual(91.0, samples.Percentile(90.5));
    }

    [TestMethod]
    public void MedianOfEvenCountIsTheLowerMiddleAndNeverInterpolated()
    {
        var samples = new LatencySamples();
        samples.Add(10);
        samples.Add(40);
        Assert.AreEqual(10.0, samples.Median());
        samples.Add(20);
        Assert.AreEqual(20.0, samples.Median(), "adding a sample must invalidate the sorted copy");
        Assert.AreEqual(40.0, samples.Percentile(99));
        CollectionAssert.AreEqual(new[] { 10.0, 40.0, 20.0 }, samples.Samples.ToArray(), "insertion order is kept");
    }

    [TestMethod]
    public void InvalidUseThrows()
    {
        var samples = new LatencySamples();
        Assert.ThrowsExactly<InvalidOperationException>(() => samples.Median());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => samples.Add(double.NaN));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => samples.Add(-1));
        samples.Add(1);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => samples.Percentile(101));
    }
}
