using System.Buffers.Binary;
using System.Text;
using CurpStore.Wal;

namespace CurpStore.Store.Faster;

/// <summary>
/// What a checkpoint carries besides the FASTER log: the whole meta space and the number of live records, written as
/// FASTER's commit cookie so that they are committed in the same metadata write as the log checkpoint (one atomic
/// point, no side file to keep in step). Layout: <c>magic | live record count | entry count | (name length | name |
/// value length | value)* | CRC32C of everything before</c>; FASTER checksums its own fields but not the cookie.
/// </summary>
internal sealed record CheckpointMeta(SortedDictionary<string, byte[]> Meta, long LiveRecordCount)
{
    private static ReadOnlySpan<byte> Magic => "CSM1"u8;

    public byte[] Encode()
    {
        var length = Magic.Length + 8 + 4 + 4;
        foreach (var (name, value) in Meta)
        {
            length += (2 * VarInt.MaxBytes) + Encoding.UTF8.GetByteCount(name) + value.Length;
        }
        var buffer = new byte[length];
        Magic.CopyTo(buffer);
        var offset = Magic.Length;
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(offset), LiveRecordCount);
        offset += 8;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(offset), Meta.Count);
        offset += 4;
        foreach (var (name, value) in Meta)
        {
            var nameLength = Encoding.UTF8.GetByteCount(name);
            offset += VarInt.Write((ulong)nameLength, buffer.AsSpan(offset));
            offset += Encoding.UTF8.GetBytes(name, buffer.AsSpan(offset));
            offset += VarInt.Write((ulong)value.Length, buffer.AsSpan(offset));
            value.CopyTo(buffer.AsSpan(offset));
            offset += value.Length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(offset), Crc32C.Compute(buffer.AsSpan(0, offset)));
        return buffer.AsSpan(0, offset + 4).ToArray();
    }

    /// <summary>Decodes a cookie; throws <see cref="InvalidDataException"/> for anything but an intact one.</summary>
    public static CheckpointMeta Decode(byte[]? cookie)
    {
        if (cookie is null || cookie.Length < Magic.Length + 8 + 4 + 4 || !cookie.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("the checkpoint carries no store meta");
        }
        var body = cookie.AsSpan(0, cookie.Length - 4);
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(cookie.AsSpan(body.Length)))
        {
            throw new InvalidDataException("the checkpoint's store meta fails its checksum");
        }
        var offset = Magic.Length;
        var liveRecordCount = BinaryPrimitives.ReadInt64LittleEndian(body[offset..]);
        offset += 8;
        var entryCount = BinaryPrimitives.ReadInt32LittleEndian(body[offset..]);
        offset += 4;
        var meta = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < entryCount; i++)
        {
            var name = Encoding.UTF8.GetString(Slice(body, ref offset));
            meta[name] = Slice(body, ref offset).ToArray();
        }
        if (offset != body.Length)
        {
            throw new InvalidDataException("the checkpoint's store meta has trailing bytes");
        }
        return new CheckpointMeta(meta, liveRecordCount);
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> body, ref int offset)
    {
        var length = VarInt.Read(body, ref offset);
        if (length > (ulong)(body.Length - offset))
        {
            throw new InvalidDataException("the checkpoint's store meta is cut short");
        }
        var slice = body.Slice(offset, (int)length);
        offset += (int)length;
        return slice;
    }
}
