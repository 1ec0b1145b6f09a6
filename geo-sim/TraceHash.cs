using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace CurpStore.GeoSim;

/// <summary>
/// A running 64-bit FNV-1a hash over the events of a run (deliveries, client results…).
/// </summary>
/// <remarks>
/// <para>
/// Two runs with the same seed must produce the same hash; if they do not, something in the
/// simulation is nondeterministic (a dictionary iteration order, wall-clock time, an unseeded
/// random). The hash is the cheap way to detect that without storing whole traces.
/// </para>
/// <para>
/// Tokens are typed and length-prefixed, and integers are hashed as fixed-width little-endian
/// bytes, so ("ab", "c") and ("a", "bc") differ, 1L and 1UL differ, and the value never depends
/// on the machine's byte order or the string's in-memory encoding.
/// </para>
/// </remarks>
public sealed class TraceHash
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    private const byte LongTag = 1;
    private const byte ULongTag = 2;
    private const byte StringTag = 3;

    /// <summary>Strings up to this many UTF-8 bytes are encoded on the stack.</summary>
    private const int StackEncodeLimitBytes = 256;

    /// <summary>The current 64-bit hash value.</summary>
    public ulong Value { get; private set; } = OffsetBasis;

    /// <summary>How many tokens have been added (a quick sanity figure next to the hash).</summary>
    public long TokenCount { get; private set; }

    /// <summary>Adds a signed integer token (for example a virtual time in microseconds).</summary>
    public TraceHash Add(long value)
    {
        Span<byte> buffer = stackalloc byte[9];
        buffer[0] = LongTag;
        BinaryPrimitives.WriteInt64LittleEndian(buffer[1..], value);
        Mix(buffer);
        TokenCount++;
        return this;
    }

    /// <summary>Adds an unsigned integer token (for example an endpoint id).</summary>
    public TraceHash Add(ulong value)
    {
        Span<byte> buffer = stackalloc byte[9];
        buffer[0] = ULongTag;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[1..], value);
        Mix(buffer);
        TokenCount++;
        return this;
    }

    /// <summary>Adds a string token, hashed as its UTF-8 bytes after a tag and a length.</summary>
    public TraceHash Add(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int byteCount = Encoding.UTF8.GetByteCount(value);
        Span<byte> header = stackalloc byte[5];
        header[0] = StringTag;
        BinaryPrimitives.WriteInt32LittleEndian(header[1..], byteCount);
        Mix(header);

        Span<byte> bytes = byteCount <= StackEncodeLimitBytes ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(value, bytes);
        Mix(bytes);
        TokenCount++;
        return this;
    }

    /// <summary>The hash as 16 lowercase hex digits, the form printed in reports.</summary>
    public string ToHex() => Value.ToString("x16", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override string ToString() => ToHex();

    private void Mix(ReadOnlySpan<byte> bytes)
    {
        ulong hash = Value;
        foreach (byte b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }

        Value = hash;
    }
}
