using System.Buffers.Binary;

namespace CurpStore.Wal;

/// <summary>
/// The on-disk layout of one record, little-endian:
/// <code>
/// offset 0   u32  payload length in bytes
/// offset 4   u32  CRC-32C over bytes 8 .. end (type, index, payload)
/// offset 8   u8   type
/// offset 9   u64  index
/// offset 17       payload
/// </code>
/// Records follow each other with no padding and no file header, so a segment is valid exactly up to the end of its
/// last whole record and a torn tail is cut with one <c>ftruncate</c>. The length is not covered by the CRC directly,
/// but a wrong length selects a different byte range, whose CRC then fails.
/// </summary>
internal static class RecordFormat
{
    public const int LengthOffset = 0;
    public const int CrcOffset = 4;
    public const int TypeOffset = 8;
    public const int IndexOffset = 9;
    public const int HeaderSizeBytes = 17;

    /// <summary>Largest payload the format allows, so that a whole encoded record still fits one array.</summary>
    public const int MaxPayloadBytes = int.MaxValue - 64;

    public static int EncodedLength(int payloadLength) => HeaderSizeBytes + payloadLength;

    /// <summary>Writes the whole record into <paramref name="destination"/>, which must be exactly
    /// <see cref="EncodedLength"/> bytes.</summary>
    public static void Encode(Span<byte> destination, byte type, long index, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination[LengthOffset..], (uint)payload.Length);
        destination[TypeOffset] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[IndexOffset..], (ulong)index);
        payload.CopyTo(destination[HeaderSizeBytes..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CrcOffset..], Crc32C.Compute(destination[TypeOffset..]));
    }

    public static uint ReadPayloadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[LengthOffset..]);

    public static uint ReadCrc(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[CrcOffset..]);

    /// <summary>The stored index as unsigned: a damaged header may hold a value above <see cref="long.MaxValue"/>,
    /// which must read as "implausible", not as a negative index.</summary>
    public static ulong ReadIndex(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt64LittleEndian(header[IndexOffset..]);
}
