namespace CurpStore.Store;

/// <summary>
/// Watch event production. The watch hub (in the server) takes <see cref="LastAppliedEvents"/> after every apply for
/// synced watchers, and <see cref="ReadEvents"/> for watchers that start in the past, until they catch up.
/// </summary>
public sealed partial class EtcdStateMachine
{
    /// <summary>The events of the last applied command, in revision order (empty when it changed nothing).</summary>
    public IReadOnlyList<WatchEvent> LastAppliedEvents => lastAppliedEvents;

    /// <summary>
    /// Events from <paramref name="fromRevision"/> on, in revision order, from the stored history. A start below the
    /// compacted revision gets no events and <see cref="WatchHistory.CompactRevision"/> set (etcd cancels such a watch).
    /// At most <paramref name="maxEvents"/> events, but never half a revision (a txn's events travel together), so one
    /// revision may exceed the bound. <paramref name="fromRevision"/> &lt;= 0 means "from now on" (no history).
    /// </summary>
    public WatchHistory ReadEvents(long fromRevision, int maxEvents, bool includePrevKv = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        if (fromRevision <= 0)
        {
            return new WatchHistory([], applied.Revision + 1, 0);
        }
        if (fromRevision < applied.CompactedRevision)
        {
            return new WatchHistory([], fromRevision, applied.CompactedRevision);
        }
        var events = new List<WatchEvent>();
        var next = applied.Revision + 1;
        foreach (var record in applied.Engine.ScanRecords(new Revision(fromRevision, 0)))
        {
            if (events.Count >= maxEvents && record.Revision.Main != events[^1].Kv.ModRevision)
            {
                next = record.Revision.Main;
                break;
            }
            events.Add(WatchEvents.From(applied, record, includePrevKv));
        }
        return new WatchHistory(events, events.Count == 0 ? Math.Max(fromRevision, next) : next, 0);
    }
}
