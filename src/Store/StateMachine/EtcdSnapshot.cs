using System.Collections.Immutable;
using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// An immutable image of the applied state: every engine record (the whole history since the last compaction, as an
/// etcd snapshot ships its whole database) and the meta space, which holds the consistent index. Engine-neutral, so a
/// snapshot taken on one engine installs on another.
/// </summary>
public sealed class EtcdSnapshot : IEtcdImage
{
    public EtcdSnapshot(ImmutableArray<KvRecord> records, ImmutableSortedDictionary<string, byte[]> meta)
    {
        Records = records;
        Meta = meta;
    }

    /// <summary>No records, no meta: installing it gives an empty store at revision 1.</summary>
    public static EtcdSnapshot Empty { get; } = new([], ImmutableSortedDictionary.Create<string, byte[]>(StringComparer.Ordinal));

    public ImmutableArray<KvRecord> Records { get; }

    public ImmutableSortedDictionary<string, byte[]> Meta { get; }

    int IEtcdImage.RecordCount => Records.Length;

    IEnumerable<KvRecord> IEtcdImage.Records => Records;

    IReadOnlyCollection<KeyValuePair<string, byte[]>> IEtcdImage.Meta => Meta;

    /// <summary>The log index the image reflects.</summary>
    public ulong ConsistentIndex => (ulong)(StoreMeta.DecodeInt64(Meta.GetValueOrDefault(StoreMeta.ConsistentIndex)) ?? 0);

    internal static EtcdSnapshot Capture(IKvEngine engine) => new([.. engine.ScanRecords(Revision.Zero)], CaptureMeta(engine));

    /// <summary>A copy of the engine's meta space (a few entries: revisions, consistent index, leases, auth).</summary>
    internal static ImmutableSortedDictionary<string, byte[]> CaptureMeta(IKvEngine engine) =>
        engine.ScanMeta("").ToImmutableSortedDictionary(e => e.Key, e => (byte[])e.Value.Clone(), StringComparer.Ordinal);

    /// <summary>A batch that replaces an engine's whole content with this image.</summary>
    internal KvWriteBatch ToBatch()
    {
        var batch = new KvWriteBatch { ClearFirst = true };
        batch.Puts.AddRange(Records);
        foreach (var (name, value) in Meta)
        {
            batch.Meta[name] = (byte[])value.Clone();
        }
        return batch;
    }
}
