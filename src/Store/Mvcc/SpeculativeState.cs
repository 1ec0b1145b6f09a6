using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The leader's overlay of speculated, not yet applied effects on top of the applied state, with its own revision
/// counter. Copy-on-write at key granularity: a key's history is copied into the overlay the first time a speculated
/// command writes it, so reads of every revision of that key come from the copy and every other key falls through to
/// the applied state. Each overlay entry remembers the log index that last wrote it; once that index is applied the
/// applied state holds the same thing and the entry is dropped (<see cref="DropAppliedThrough"/>).
/// </summary>
internal sealed class SpeculativeState(AppliedState applied) : IMvccState
{
    private readonly KeyIndex keys = new();
    private readonly Dictionary<byte[], ulong> keyWrittenAt = new(ByteKeyComparer.Instance);
    private readonly Dictionary<Revision, KvRecord> records = [];
    private readonly Dictionary<long, (LeaseInfo? Lease, ulong WrittenAt)> leases = [];
    private (long Revision, ulong WrittenAt)? compaction;
    private (AuthState State, ulong WrittenAt)? auth;
    private (AlarmSet Alarms, ulong WrittenAt)? alarms;
    private long? revision;

    /// <summary>The log index of the command being speculated; stamps every overlay entry it writes.</summary>
    public ulong CurrentIndex { get; set; }

    public long Revision => revision ?? applied.Revision;

    public long CompactedRevision => Math.Max(applied.CompactedRevision, compaction?.Revision ?? long.MinValue);

    public int KeyCount => keys.Count;

    public KeyHistory? FindKey(byte[] key) => keys.Find(key) ?? applied.FindKey(key);

    public IEnumerable<KeyHistory> KeysInRange(KeyRange range) => Merge(keys.InRange(range), applied.KeysInRange(range));

    public KeyValue ReadKeyValue(Revision at) => records.TryGetValue(at, out var record) ? record.Kv : applied.ReadKeyValue(at);

    public LeaseInfo? FindLease(long id) => leases.TryGetValue(id, out var entry) ? entry.Lease : applied.FindLease(id);

    /// <summary>Derived rather than tracked: the applied attachments of keys the overlay did not touch, plus the
    /// touched keys whose latest version names the lease.</summary>
    public IReadOnlyList<byte[]> AttachedKeys(long leaseId)
    {
        var result = new SortedSet<byte[]>(ByteKeyComparer.Instance);
        foreach (var key in applied.AttachedKeys(leaseId))
        {
            if (keys.Find(key) is null)
            {
                result.Add(key);
            }
        }
        foreach (var history in keys.All)
        {
            if (history.TryGet(long.MaxValue, out var modified, out _, out _) && ReadKeyValue(modified).Lease == leaseId)
            {
                result.Add(history.Key);
            }
        }
        return [.. result];
    }

    public KeyHistory KeyForWrite(byte[] key)
    {
        var history = keys.Find(key);
        if (history is null)
        {
            history = applied.FindKey(key)?.Clone() ?? new KeyHistory(key);
            keys.Add(history);
        }
        keyWrittenAt[key] = CurrentIndex;
        return history;
    }

    public void WriteRecord(KvRecord record) => records[record.Revision] = record;

    public void AttachKey(long leaseId, byte[] key)
    {
        // Derived in AttachedKeys.
    }

    public void DetachKey(long leaseId, byte[] key)
    {
        // Derived in AttachedKeys.
    }

    public void SaveLease(LeaseInfo lease) => leases[lease.Id] = (lease, CurrentIndex);

    public void DeleteLease(long id) => leases[id] = (null, CurrentIndex);

    public AuthState Auth => auth?.State ?? applied.Auth;

    public void SetAuth(AuthState next) => auth = (next, CurrentIndex);

    public AlarmSet Alarms => alarms?.Alarms ?? applied.Alarms;

    public void SetAlarms(AlarmSet next) => alarms = (next, CurrentIndex);

    /// <summary>Only the compacted revision matters to later reads; old versions are dropped when it is applied.</summary>
    public void Compact(long at) => compaction = (at, CurrentIndex);

    public void SetRevision(long at) => revision = at;

    /// <summary>Forgets what entries up to <paramref name="appliedIndex"/> wrote: the applied state now holds it.</summary>
    public void DropAppliedThrough(ulong appliedIndex)
    {
        List<byte[]>? settled = null;
        foreach (var (key, writtenAt) in keyWrittenAt)
        {
            if (writtenAt <= appliedIndex)
            {
                (settled ??= []).Add(key);
            }
        }
        foreach (var key in settled ?? [])
        {
            keyWrittenAt.Remove(key);
            keys.Remove(keys.Find(key)!);
        }
        var appliedRevision = applied.Revision;
        foreach (var at in records.Keys.Where(r => r.Main <= appliedRevision).ToList())
        {
            records.Remove(at);
        }
        foreach (var id in leases.Where(l => l.Value.WrittenAt <= appliedIndex).Select(l => l.Key).ToList())
        {
            leases.Remove(id);
        }
        if (compaction is { } pending && pending.WrittenAt <= appliedIndex)
        {
            compaction = null;
        }
        if (auth is { } changed && changed.WrittenAt <= appliedIndex)
        {
            auth = null;
        }
        if (alarms is { } raised && raised.WrittenAt <= appliedIndex)
        {
            alarms = null;
        }
    }

    public void Clear()
    {
        keys.Clear();
        keyWrittenAt.Clear();
        records.Clear();
        leases.Clear();
        compaction = null;
        auth = null;
        alarms = null;
        revision = null;
    }

    /// <summary>Merges two key-ordered walks; on equal keys the overlay's copy wins.</summary>
    private static IEnumerable<KeyHistory> Merge(IEnumerable<KeyHistory> overlay, IEnumerable<KeyHistory> below)
    {
        using var top = overlay.GetEnumerator();
        using var bottom = below.GetEnumerator();
        var hasTop = top.MoveNext();
        var hasBottom = bottom.MoveNext();
        while (hasTop || hasBottom)
        {
            var order = !hasTop ? 1 : !hasBottom ? -1 : ByteKeyComparer.Instance.Compare(top.Current.Key, bottom.Current.Key);
            if (order <= 0)
            {
                yield return top.Current;
                hasTop = top.MoveNext();
                if (order == 0)
                {
                    hasBottom = bottom.MoveNext();
                }
            }
            else
            {
                yield return bottom.Current;
                hasBottom = bottom.MoveNext();
            }
        }
    }
}
