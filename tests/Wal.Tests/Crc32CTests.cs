namespace CurpStore.Wal.Tests;

[TestClass]
public sealed class Crc32CTests
{
    [TestMethod]
    public void KnownCheckValue() =>
        // The CRC-32C check value from RFC 3720 / the CRC catalogue.
        Assert.AreEqual(0xE3069283u, Crc32C.Compute("123456789"u8));

    [TestMethod]
    public void EmptyInput_IsZero() => Assert.AreEqual(0u, Crc32C.Compute([]));

    [TestMethod]
    public void MatchesBitwiseReference_ForEveryLengthAndAlignment()
    {
        var random = new Random(3);
        var data = new byte[300];
        random.NextBytes(data);
        for (var start = 0; start < 8; start++)
        {
            for (var length = 0; start + length <= data.Length; length += 7)
            {
                var slice = data.AsSpan(start, length);
                Assert.AreEqual(BitwiseCrc32C(slice), Crc32C.Compute(slice), $"start {start}, length {length}");
            }
        }
    }

    [TestMethod]
    public void AppendInPieces_EqualsOneShot()
    {
        var data = new byte[123];
        new Random(5).NextBytes(data);
        var state = Crc32C.Append(~0u, data.AsSpan(0, 50));
        state = Crc32C.Append(state, data.AsSpan(50));
        Assert.AreEqual(Crc32C.Compute(data), ~state);
    }

    /// <summary>The definition, one bit at a time (reflected polynomial 0x82F63B78).</summary>
    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }
        return ~crc;
    }
}
