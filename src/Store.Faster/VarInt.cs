namespace CurpStore.Store.Faster;

/// <summary>Unsigned LEB128 (protobuf's varint): seven bits per byte, low bits first, high bit = more follows.</summary>
internal static class VarInt
{
    public const int MaxBytes = 10;

    public static int Write(ulong value, Span<byte> destination)
    {
        var written = 0;
        while (value >= 0x80)
        {
            destination[written++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[written++] = (byte)value;
        return written;
    }

    public static ulong Read(ReadOnlySpan<byte> source, ref int offset)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (offset >= source.Length)
            {
                throw new InvalidDataException("a varint is cut short");
            }
            var next = source[offset++];
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("a varint is longer than ten bytes");
    }
}
