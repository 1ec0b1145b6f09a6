using CurpStore.Faults;

namespace CurpStore.Faults.Tests;

[TestClass]
public sealed class FaultOptionsTests
{
    [TestMethod]
    public void FlagsAreRead()
    {
        var options = FaultOptions.Parse(["--members", "5", "--seconds", "600", "--seed", "17", "--strict-revisions", "--keys", "4"]);
        Assert.AreEqual(new FaultOptions(5, 600, 17, true, Keys: 4), options);
    }

    [TestMethod]
    [DataRow("--members", "4")]
    [DataRow("--seconds", "1")]
    [DataRow("--seed", "-1")]
    [DataRow("--bogus", "1")]
    [DataRow("--loopback", "1")]
    public void BadFlagsAreRefused(string flag, string value) =>
        Assert.ThrowsExactly<ArgumentException>(() => FaultOptions.Parse([flag, value]));
}
