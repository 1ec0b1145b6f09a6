namespace CurpStore.Store;

/// <summary>
/// The applied state as it is now, read from the engine only as it is written out, so no copy of the store is made.
/// An <see cref="EtcdSnapshot"/> copies every record since the last compaction into objects; a member took one every
/// --snapshot-count entries, and that garbage of the store's size reached the oldest GC generation each time (README
/// "Overload"). Valid until the state changes: reading it after an apply or a restore throws
/// <see cref="InvalidOperationException"/>, so write it out at once, on the thread that applies.
/// </summary>
public sealed class EtcdLiveImage : IEtcdImage
{
    private readonly EtcdStateMachine machine;
    private readonly IKvEngine engine;
    private readonly ulong appliedIndex;
    private readonly long restores;

    internal EtcdLiveImage(EtcdStateMachine machine, IKvEngine engine)
    {
        this.machine = machine;
        this.engine = engine;
        appliedIndex = machine.AppliedIndex;
        restores = machine.Restores;
        RecordCount = engine.RecordCount;
        Meta = EtcdSnapshot.CaptureMeta(engine);
    }

    public int RecordCount { get; }

    public IEnumerable<KvRecord> Records
    {
        get
        {
            ThrowIfChanged();
            return Read();
        }
    }

    public IReadOnlyCollection<KeyValuePair<string, byte[]>> Meta { get; }

    private IEnumerable<KvRecord> Read()
    {
        foreach (var record in engine.ScanRecords(Revision.Zero))
        {
            ThrowIfChanged();
            yield return record;
        }
    }

    private void ThrowIfChanged()
    {
        if (machine.AppliedIndex != appliedIndex || machine.Restores != restores)
        {
            throw new InvalidOperationException(
                $"the live image of index {appliedIndex} was read after the state changed (now at index {machine.AppliedIndex})");
        }
    }
}
