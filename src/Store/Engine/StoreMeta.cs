using System.Buffers.Binary;
using System.Globalization;

namespace CurpStore.Store;

/// <summary>
/// Names and encodings of the meta space. Fixed-width little-endian integers: the meta space is tiny and read once at
/// start, so the simplest stable encoding wins (protobuf arrives later for the wire, not for these).
/// </summary>
internal static class StoreMeta
{
    /// <summary>The last log index applied (etcd's consistent index): a restart replays the log after it.</summary>
    public const string ConsistentIndex = "consistent_index";

    /// <summary>The current main revision. Kept explicitly because compaction may drop the newest tombstone.</summary>
    public const string Revision = "revision";

    /// <summary>The compacted revision (etcd's finishedCompactRev); absent = never compacted.</summary>
    public const string CompactedRevision = "compacted_revision";

    /// <summary>One entry per lease (etcd's "lease" bucket): id, TTL and checkpointed remaining TTL.</summary>
    public const string LeasePrefix = "lease/";

    public static string LeaseName(long id) => LeasePrefix + ((ulong)id).ToString("x16", CultureInfo.InvariantCulture);

    public static byte[] EncodeInt64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static long? DecodeInt64(byte[]? bytes) => bytes is null ? null : BinaryPrimitives.ReadInt64LittleEndian(bytes);

    public static byte[] EncodeLease(LeaseInfo lease)
    {
        var bytes = new byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, lease.Id);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), lease.TtlSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16), lease.RemainingTtlSeconds);
        return bytes;
    }

    public static LeaseInfo DecodeLease(byte[] bytes) => new(
        BinaryPrimitives.ReadInt64LittleEndian(bytes),
        BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)),
        BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16)));
}
