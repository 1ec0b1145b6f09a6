using CurpStore.Store;

namespace CurpStore.Server.Watch;

/// <summary>The events of one applied revision (a put, a delete range, a txn or a lease revoke), prev_kv included.</summary>
public sealed record RevisionEvents(long Revision, IReadOnlyList<WatchEvent> Events, long SizeBytes);

/// <summary>What <see cref="WatchHub.Read"/> found.</summary>
public enum HubReadResult
{
    /// <summary>The entries from the requested revision on (possibly none yet) were copied.</summary>
    Read,

    /// <summary>The requested revision already left the buffer: read it from the store's history.</summary>
    Behind,
}

/// <summary>
/// The member's recent watch events, in a bounded buffer shared by every watch stream. The host's loop thread appends
/// the events of each applied command (<see cref="Publish"/>: a lock, an array slot, a signal; no I/O, no waiting);
/// watch streams read it from their own tasks at their own pace. When the buffer is full the oldest revisions leave it;
/// a watcher that still needed them catches up from the store's history instead (etcd's unsynced watcher group), so a
/// slow reader costs this buffer nothing.
/// </summary>
public sealed class WatchHub
{
    private readonly object gate = new();
    private readonly RevisionEvents[] ring;
    private readonly long maxBytes;
    private int head;
    private int count;
    private long bufferedEvents;
    private long bufferedBytes;
    private long firstRevision;
    private long currentRevision;
    private long compactedRevision;
    private readonly AsyncSignal advanced = new();

    /// <param name="maxEvents">Events held at most (a revision with more than this is never buffered; watchers read
    /// it from history).</param>
    /// <param name="maxBytes">Approximate bytes (keys, values, prev values) held at most.</param>
    /// <param name="currentRevision">The store's revision when the hub starts: events after it will be published.</param>
    public WatchHub(int maxEvents, long maxBytes, long currentRevision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ring = new RevisionEvents[maxEvents];
        this.maxBytes = maxBytes;
        this.currentRevision = currentRevision;
        firstRevision = currentRevision + 1;
    }

    /// <summary>The member's applied revision as last published.</summary>
    public long CurrentRevision
    {
        get
        {
            lock (gate)
            {
                return currentRevision;
            }
        }
    }

    /// <summary>Completes at the next <see cref="Publish"/> or <see cref="Reset"/>. Take it before checking for work,
    /// so that nothing published in between is missed.</summary>
    public Task NextAdvance => advanced.Next;

    /// <summary>Revisions currently held (for tests and metrics).</summary>
    public int BufferedRevisions
    {
        get
        {
            lock (gate)
            {
                return count;
            }
        }
    }

    /// <summary>Appends the events of one applied command at <paramref name="revision"/> (the store's revision after
    /// it), and notes the store's compacted revision (a compaction has no events, but watchers behind it must learn it
    /// from history and be cancelled, even if the buffer still holds their revisions). Called on the host's loop
    /// thread.</summary>
    public void Publish(long revision, long compactedRevision, IReadOnlyList<WatchEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            lock (gate)
            {
                this.compactedRevision = compactedRevision;
            }
            return;
        }
        var entry = new RevisionEvents(revision, events, SizeOf(events));
        lock (gate)
        {
            this.compactedRevision = compactedRevision;
            if (revision <= currentRevision)
            {
                // Cannot happen while the store's revisions only grow; if it ever does, the buffer's order is no
                // longer to be trusted, and the loop thread must not fail for it: send every watcher to history.
                Clear(currentRevision + 1);
            }
            else if (events.Count > ring.Length || entry.SizeBytes > maxBytes)
            {
                // Too big to buffer: everything up to it is now only in the store's history.
                currentRevision = revision;
                Clear(revision + 1);
            }
            else
            {
                currentRevision = revision;
                while (count > 0 && (count == ring.Length || bufferedEvents + events.Count > ring.Length || bufferedBytes + entry.SizeBytes > maxBytes))
                {
                    EvictOldest();
                }
                ring[(head + count) % ring.Length] = entry;
                count++;
                bufferedEvents += events.Count;
                bufferedBytes += entry.SizeBytes;
            }
        }
        advanced.Set();
    }

    /// <summary>The store was replaced by a snapshot at <paramref name="revision"/>: what came before is history only.</summary>
    public void Reset(long revision, long compactedRevision)
    {
        lock (gate)
        {
            this.compactedRevision = compactedRevision;
            currentRevision = Math.Max(currentRevision, revision);
            Clear(currentRevision + 1);
        }
        advanced.Set();
    }

    /// <summary>Copies the buffered revisions from <paramref name="fromRevision"/> on (<see cref="HubReadResult.Behind"/>
    /// when they are not all buffered, or compacted), at most
    /// <paramref name="maxRevisions"/>, into <paramref name="into"/> (cleared first). <paramref name="readThrough"/> is
    /// the last revision the copy covers: <paramref name="into"/>'s last revision, or the current revision when the
    /// copy reached the end of the buffer.</summary>
    public HubReadResult Read(long fromRevision, int maxRevisions, List<RevisionEvents> into, out long readThrough)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRevisions, 1);
        into.Clear();
        lock (gate)
        {
            readThrough = currentRevision;
            if (fromRevision < firstRevision || fromRevision < compactedRevision)
            {
                return HubReadResult.Behind;
            }
            for (var i = FirstIndexAtOrAfter(fromRevision); i < count; i++)
            {
                if (into.Count == maxRevisions)
                {
                    readThrough = into[^1].Revision;
                    break;
                }
                into.Add(ring[(head + i) % ring.Length]);
            }
            return HubReadResult.Read;
        }
    }

    private int FirstIndexAtOrAfter(long revision)
    {
        var (low, high) = (0, count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (ring[(head + middle) % ring.Length].Revision < revision)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    private void EvictOldest()
    {
        var oldest = ring[head];
        ring[head] = null!;
        head = (head + 1) % ring.Length;
        count--;
        bufferedEvents -= oldest.Events.Count;
        bufferedBytes -= oldest.SizeBytes;
        firstRevision = oldest.Revision + 1;
    }

    private void Clear(long nextRevision)
    {
        Array.Clear(ring);
        (head, count, bufferedEvents, bufferedBytes) = (0, 0, 0, 0);
        firstRevision = nextRevision;
    }

    /// <summary>What an event keeps alive: its keys and values (the byte arrays are the store's own) plus a fixed
    /// overhead for the objects around them.</summary>
    private static long SizeOf(IReadOnlyList<WatchEvent> events)
    {
        const int PerKeyValueOverheadBytes = 64;
        long size = 0;
        foreach (var e in events)
        {
            size += PerKeyValueOverheadBytes + e.Kv.Key.Length + e.Kv.Value.Length;
            if (e.PrevKv is { } previous)
            {
                size += PerKeyValueOverheadBytes + previous.Key.Length + previous.Value.Length;
            }
        }
        return size;
    }
}

/// <summary>An awaitable "something changed": <see cref="Next"/> completes at the next <see cref="Set"/>. Waiters run
/// on the thread pool, never on the thread that sets it.</summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource next = New();

    public Task Next => Volatile.Read(ref next).Task;

    public void Set() => Interlocked.Exchange(ref next, New()).TrySetResult();

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
