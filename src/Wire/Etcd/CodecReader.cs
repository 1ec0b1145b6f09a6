using System.Text;
using Google.Protobuf;

namespace CurpStore.Wire.Etcd;

/// <summary>Reads what <see cref="CodedOutputStream"/> wrote (varints, zigzag, length-delimited spans) straight from a
/// span, and fails with <see cref="FormatException"/> on anything truncated, overlong or malformed.</summary>
internal ref struct CodecReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> bytes;
    private readonly string what;
    private int position;

    /// <param name="bytes">The encoded form.</param>
    /// <param name="what">What the bytes should be, for error messages.</param>
    public CodecReader(ReadOnlySpan<byte> bytes, string what)
    {
        this.bytes = bytes;
        this.what = what;
    }

    public readonly int Remaining => bytes.Length - position;

    public byte ReadByte() => position < bytes.Length ? bytes[position++] : throw Truncated();

    public ulong ReadVarint64()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 1)
            {
                throw Malformed("a varint overflows 64 bits");
            }
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw Malformed("a varint is longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint64();

    public long ReadSInt64()
    {
        var raw = ReadVarint64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A count of items that each take at least <paramref name="minBytesEach"/> bytes, so a corrupt count is
    /// caught before anything is allocated for it.</summary>
    public int ReadCount(int minBytesEach)
    {
        var count = ReadVarint64();
        return count <= (ulong)(Remaining / minBytesEach)
            ? (int)count
            : throw Malformed($"{count} items of at least {minBytesEach} bytes do not fit in the {Remaining} bytes left");
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint64();
        if (length > (ulong)Remaining)
        {
            throw Truncated();
        }
        var span = bytes.Slice(position, (int)length);
        position += (int)length;
        return span;
    }

    public string ReadString()
    {
        var span = ReadLengthDelimited();
        try
        {
            return StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException($"{what}: a string is not valid UTF-8", e);
        }
    }

    public T ReadMessage<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        var span = ReadLengthDelimited();
        try
        {
            return parser.ParseFrom(span);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Google.Protobuf throws ArgumentOutOfRangeException or IndexOutOfRangeException for some length prefixes
            // near int.MaxValue: any decoder failure means malformed bytes.
            throw new FormatException($"{what}: a malformed {typeof(T).Name}: {e.Message}", e);
        }
    }

    public readonly void ExpectEnd()
    {
        if (position != bytes.Length)
        {
            throw Malformed($"{bytes.Length - position} bytes follow the end");
        }
    }

    public readonly FormatException Malformed(string reason) => new($"{what}: {reason}");

    private readonly FormatException Truncated() => new($"{what}: truncated at byte {position} of {bytes.Length}");
}
