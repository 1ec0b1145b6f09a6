namespace CurpStore.Store;

/// <summary>
/// What "database size" means for CurpStore: the bytes each stored record would take in etcd's "key" bucket, its
/// revision key (17 bytes, 18 with the tombstone mark) plus its mvccpb.KeyValue encoded as protobuf (a tombstone
/// stores only the key). Summed over every record the store holds (every version since the last compaction), it is
/// deterministic (every member at the same applied index has the same) and independent of the engine's files.
/// </summary>
internal static class RecordSize
{
    private const int RevisionKeyBytes = 17;

    public static long Of(KvRecord record)
    {
        var kv = record.Kv;
        if (record.IsTombstone)
        {
            return RevisionKeyBytes + 1 + BytesField(kv.Key.Length);
        }
        return RevisionKeyBytes + BytesField(kv.Key.Length) + Int64Field(kv.CreateRevision) + Int64Field(kv.ModRevision)
            + Int64Field(kv.Version) + BytesField(kv.Value.Length) + Int64Field(kv.Lease);
    }

    /// <summary>A length-delimited field: one tag byte, the length as a varint, the bytes; absent when empty.</summary>
    private static long BytesField(int length) => length == 0 ? 0 : 1 + VarintBytes((ulong)length) + length;

    /// <summary>An int64 field: one tag byte and the value as a varint (negative values take 10 bytes); absent when 0.</summary>
    private static long Int64Field(long value) => value == 0 ? 0 : 1 + VarintBytes((ulong)value);

    private static int VarintBytes(ulong value)
    {
        var bytes = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            bytes++;
        }
        return bytes;
    }
}
