using System.Buffers.Binary;

namespace CurpStore.Store.Faster;

/// <summary>
/// The FASTER key of a record: its revision as 16 bytes, main then sub, both big-endian, like etcd's "key" bucket keys
/// (which add a separator byte): revisions are never negative, so byte order is revision order and a key is readable in
/// a hex dump of the log.
/// </summary>
internal static class RevisionKey
{
    public const int LengthBytes = 16;

    public static void Write(Revision revision, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, revision.Main);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], revision.Sub);
    }

    public static Revision Read(ReadOnlySpan<byte> key) =>
        key.Length == LengthBytes
            ? new Revision(BinaryPrimitives.ReadInt64BigEndian(key), BinaryPrimitives.ReadInt64BigEndian(key[8..]))
            : throw new InvalidDataException($"a record key has {key.Length} bytes; revision keys have {LengthBytes}");
}
