using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>
/// One forward pass over the on-disk part of the log (below FASTER's head address when the pass starts), opened lazily
/// at the first on-disk record asked for. FASTER's iterator reads whole pages, so records asked for in address order
/// cost one sequential read between them all; a record behind the pass, in memory, or not where expected is left to
/// a lookup by key.
/// </summary>
internal sealed class LogPass(LogAccessor<SpanByte, SpanByte> log) : IDisposable
{
    private readonly long endAddress = log.HeadAddress;
    private IFasterScanIterator<SpanByte, SpanByte>? iterator;
    private long currentAddress = long.MinValue;
    private bool exhausted;

    /// <summary>Records this pass provided (for tests: full scans of evicted records must not fall back to lookups).</summary>
    public long RecordsRead { get; private set; }

    /// <summary>The record of <paramref name="revision"/> at <paramref name="address"/>, or null when the pass cannot
    /// provide it.</summary>
    public KvRecord? TryRead(long address, Revision revision)
    {
        if (exhausted || address < log.BeginAddress || address >= endAddress || address < currentAddress)
        {
            return null;
        }
        iterator ??= log.Scan(address, endAddress);
        while (currentAddress < address)
        {
            if (!iterator.GetNext(out var recordInfo))
            {
                exhausted = true;
                return null;
            }
            currentAddress = iterator.CurrentAddress;
            if (currentAddress == address)
            {
                if (recordInfo.Tombstone || RevisionKey.Read(iterator.GetKey().AsReadOnlySpan()) != revision)
                {
                    return null;
                }
                RecordsRead++;
                return RecordCodec.Decode(revision, iterator.GetValue().AsReadOnlySpan());
            }
        }
        return null;
    }

    public void Dispose() => iterator?.Dispose();
}
