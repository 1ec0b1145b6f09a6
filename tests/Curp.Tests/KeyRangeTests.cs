using System.Text;

namespace CurpStore.Curp.Tests;

[TestClass]
public sealed class KeyRangeTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static KeyRange Parse(string text) => text switch
    {
        _ when text.EndsWith('*') => KeyRange.Prefix(B(text[..^1])),
        _ when text.EndsWith('+') => KeyRange.FromKey(B(text[..^1])),
        _ when text.Contains('-') => new KeyRange(B(text.Split('-')[0]), B(text.Split('-')[1])),
        _ => KeyRange.Single(B(text)),
    };

    [TestMethod]
    [DataRow("a", "a", true)]
    [DataRow("a", "b", false)]
    [DataRow("a-c", "b", true)]
    [DataRow("a-c", "c", false)]
    [DataRow("a-c", "c-e", false)]
    [DataRow("a-c", "b-e", true)]
    [DataRow("foo*", "foo/bar", true)]
    [DataRow("foo*", "fop", false)]
    [DataRow("m+", "z", true)]
    [DataRow("m+", "a-m", false)]
    [DataRow("m+", "a-n", true)]
    [DataRow("c-a", "b", false)]
    public void Overlaps_IsSymmetric_AndFollowsEtcdRangeRules(string left, string right, bool expected)
    {
        Assert.AreEqual(expected, Parse(left).Overlaps(Parse(right)));
        Assert.AreEqual(expected, Parse(right).Overlaps(Parse(left)));
    }

    [TestMethod]
    public void PrefixEnd_IsEtcdsGetPrefixRangeEnd()
    {
        CollectionAssert.AreEqual(B("fop"), KeyRange.PrefixEnd(B("foo")));
        CollectionAssert.AreEqual(new byte[] { 0x61, 0x02 }, KeyRange.PrefixEnd([0x61, 0x01, 0xff]));
        CollectionAssert.AreEqual(new byte[] { 0 }, KeyRange.PrefixEnd([0xff, 0xff]));
    }
}
