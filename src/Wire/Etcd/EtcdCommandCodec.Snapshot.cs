using System.Collections.Immutable;
using CurpStore.Curp;
using Google.Protobuf;

namespace CurpStore.Wire.Etcd;

/// <summary>
/// Snapshot images: every engine record and meta entry of an <see cref="Store.EtcdSnapshot"/> (leases, the revision,
/// the compacted revision and the consistent index live in the meta space). After the tag and version:
/// <code>
/// varint recordCount, then per record in revision order:
///   byte flags (bit 0 = tombstone), sint64 revision.Main - kv.ModRevision (0 for every record the store writes),
///   int64 revision.Sub, bytes key, bytes value, int64 create_revision, mod_revision, version, lease
/// varint metaCount, then per entry in ordinal name order: string name, bytes value
/// </code>
/// Records must come in strictly increasing revision order and names in strictly increasing ordinal order, as an
/// engine scan yields them; anything else is refused, so a decoded image is one an engine could have produced.
/// </summary>
public sealed partial class EtcdCommandCodec
{
    private const byte TombstoneFlag = 1;

    /// <summary>The smallest record: flags, eight one-byte varints (two of them empty lengths).</summary>
    private const int MinRecordBytes = 9;

    public byte[] EncodeSnapshot(IStateSnapshot snapshot)
    {
        using var stream = new MemoryStream();
        WriteSnapshot(snapshot, stream);
        return stream.ToArray();
    }

    /// <summary>Writes an <see cref="Store.IEtcdImage"/>: a whole <see cref="Store.EtcdSnapshot"/>, or a live image read
    /// from the engine as it goes.</summary>
    public void WriteSnapshot(IStateSnapshot snapshot, Stream destination)
    {
        var image = snapshot as Store.IEtcdImage
            ?? throw new ArgumentException($"expected an {nameof(Store.IEtcdImage)}, got {snapshot?.GetType().Name ?? "null"}", nameof(snapshot));
        Write(SnapshotTag, destination, ImageBufferBytes, output =>
        {
            output.WriteUInt32((uint)image.RecordCount);
            var written = 0;
            foreach (var record in image.Records)
            {
                if (++written > image.RecordCount)
                {
                    break;
                }
                var kv = record.Kv;
                output.WriteRawTag(record.IsTombstone ? TombstoneFlag : (byte)0);
                output.WriteSInt64(unchecked(record.Revision.Main - kv.ModRevision));
                output.WriteInt64(record.Revision.Sub);
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(kv.Key));
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(kv.Value));
                output.WriteInt64(kv.CreateRevision);
                output.WriteInt64(kv.ModRevision);
                output.WriteInt64(kv.Version);
                output.WriteInt64(kv.Lease);
            }
            if (written != image.RecordCount)
            {
                // The count is written first; an image whose records do not match it would not decode.
                throw new InvalidOperationException($"the image announced {image.RecordCount} records but holds {(written > image.RecordCount ? "more" : written.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
            }
            output.WriteUInt32((uint)image.Meta.Count);
            foreach (var (name, value) in image.Meta)
            {
                output.WriteString(name);
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
            }
        });
    }

    public IStateSnapshot DecodeSnapshot(ReadOnlySpan<byte> bytes)
    {
        var reader = Open(bytes, SnapshotTag, "snapshot");
        var recordCount = reader.ReadCount(MinRecordBytes);
        var records = ImmutableArray.CreateBuilder<Store.KvRecord>(recordCount);
        Store.Revision? previous = null;
        for (var i = 0; i < recordCount; i++)
        {
            var flags = reader.ReadByte();
            if ((flags & ~TombstoneFlag) != 0)
            {
                throw reader.Malformed($"record {i} has unknown flags 0x{flags:x2}");
            }
            var mainDelta = reader.ReadSInt64();
            var sub = reader.ReadInt64();
            var key = reader.ReadLengthDelimited().ToArray();
            var value = reader.ReadLengthDelimited().ToArray();
            var kv = new Store.KeyValue
            {
                Key = key,
                Value = value,
                CreateRevision = reader.ReadInt64(),
                ModRevision = reader.ReadInt64(),
                Version = reader.ReadInt64(),
                Lease = reader.ReadInt64(),
            };
            var revision = new Store.Revision(unchecked(kv.ModRevision + mainDelta), sub);
            if (previous is { } before && revision <= before)
            {
                throw reader.Malformed($"record {i} has revision {revision}, not after {before}");
            }
            previous = revision;
            records.Add(new Store.KvRecord(revision, kv, (flags & TombstoneFlag) != 0));
        }
        var metaCount = reader.ReadCount(minBytesEach: 2); // two lengths
        var meta = ImmutableSortedDictionary.CreateBuilder<string, byte[]>(StringComparer.Ordinal);
        string? previousName = null;
        for (var i = 0; i < metaCount; i++)
        {
            var name = reader.ReadString();
            if (previousName is not null && string.CompareOrdinal(name, previousName) <= 0)
            {
                throw reader.Malformed($"meta entry \"{name}\" is not after \"{previousName}\"");
            }
            previousName = name;
            meta.Add(name, reader.ReadLengthDelimited().ToArray());
        }
        reader.ExpectEnd();
        return new Store.EtcdSnapshot(records.MoveToImmutable(), meta.ToImmutable());
    }
}
