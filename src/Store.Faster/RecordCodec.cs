namespace CurpStore.Store.Faster;

/// <summary>
/// The value bytes of a record: <c>flags | create | mod | version | lease | key length | key | value</c>, the numbers
/// as unsigned LEB128 varints (revisions and versions of a metadata store are small, so 1-4 bytes instead of 8) and the
/// value running to the end of the record, so nothing stores its length twice. The revision itself is the FASTER key.
/// </summary>
internal static class RecordCodec
{
    /// <summary>Bit 0: the record is a tombstone. Bits 4-7: the format version, so a later layout can be told apart.</summary>
    private const byte TombstoneFlag = 0x01;
    private const byte FormatVersion1 = 0x10;
    private const byte FormatMask = 0xF0;

    /// <summary>Five varints of at most ten bytes each, a key-length varint, and the flags byte.</summary>
    private const int MaxHeaderBytes = 1 + (6 * VarInt.MaxBytes);

    public static int MaxEncodedLength(KvRecord record) => MaxHeaderBytes + record.Kv.Key.Length + record.Kv.Value.Length;

    /// <summary>Writes <paramref name="record"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxEncodedLength"/> bytes) and returns the bytes written.</summary>
    public static int Encode(KvRecord record, Span<byte> destination)
    {
        var kv = record.Kv;
        destination[0] = (byte)(FormatVersion1 | (record.IsTombstone ? TombstoneFlag : 0));
        var offset = 1;
        offset += VarInt.Write((ulong)kv.CreateRevision, destination[offset..]);
        offset += VarInt.Write((ulong)kv.ModRevision, destination[offset..]);
        offset += VarInt.Write((ulong)kv.Version, destination[offset..]);
        offset += VarInt.Write((ulong)kv.Lease, destination[offset..]);
        offset += VarInt.Write((ulong)kv.Key.Length, destination[offset..]);
        kv.Key.CopyTo(destination[offset..]);
        offset += kv.Key.Length;
        kv.Value.CopyTo(destination[offset..]);
        return offset + kv.Value.Length;
    }

    public static KvRecord Decode(Revision revision, ReadOnlySpan<byte> source)
    {
        if (source.Length == 0 || (source[0] & FormatMask) != FormatVersion1)
        {
            throw new InvalidDataException($"the record of revision {revision} has an unknown format");
        }
        var offset = 1;
        var createRevision = (long)VarInt.Read(source, ref offset);
        var modRevision = (long)VarInt.Read(source, ref offset);
        var version = (long)VarInt.Read(source, ref offset);
        var lease = (long)VarInt.Read(source, ref offset);
        var keyLength = VarInt.Read(source, ref offset);
        if (keyLength > (ulong)(source.Length - offset))
        {
            throw new InvalidDataException($"the record of revision {revision} is cut short");
        }
        var keyEnd = offset + (int)keyLength;
        return new KvRecord(revision, new KeyValue
        {
            Key = source[offset..keyEnd].ToArray(),
            Value = source[keyEnd..].ToArray(),
            CreateRevision = createRevision,
            ModRevision = modRevision,
            Version = version,
            Lease = lease,
        }, IsTombstone: (source[0] & TombstoneFlag) != 0);
    }
}
