namespace CurpStore.Client.Tests;

/// <summary>clientv3's range conventions, which the client reproduces (GetPrefixRangeEnd, WithFromKey).</summary>
[TestClass]
public sealed class RangeEndTests
{
    [TestMethod]
    [DataRow(new byte[] { 0x61 }, false, false, new byte[0])]
    [DataRow(new byte[] { 0x61, 0x62 }, true, false, new byte[] { 0x61, 0x63 })]
    [DataRow(new byte[] { 0x61, 0xff }, true, false, new byte[] { 0x62 })]
    [DataRow(new byte[] { 0xff, 0xff }, true, false, new byte[] { 0 })]
    [DataRow(new byte[] { 0x61 }, false, true, new byte[] { 0 })]
    public void RangeEnd_FollowsClientV3(byte[] key, bool prefix, bool fromKey, byte[] expected) =>
        CollectionAssert.AreEqual(expected, Requests.RangeEnd(key, null, prefix, fromKey));

    [TestMethod]
    public void APrefixOfTheEmptyKey_IsEveryKey()
    {
        var request = Requests.Range([], new GetOptions { Prefix = true });
        CollectionAssert.AreEqual(new byte[] { 0 }, request.Key);
        CollectionAssert.AreEqual(new byte[] { 0 }, request.RangeEnd);
    }

    [TestMethod]
    public void AnExplicitRangeEnd_WinsOverPrefix()
    {
        var request = Requests.Delete([0x61], new DeleteOptions { Prefix = true, RangeEnd = [0x7a] });
        CollectionAssert.AreEqual(new byte[] { 0x7a }, request.RangeEnd);
    }
}
