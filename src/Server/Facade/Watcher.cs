using CurpStore.Curp;
using CurpStore.Wire.Etcd;
using CurpStore.Store;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>
/// One watch on a stream: what it selects (key range with etcd's conventions, filters), what it asked for (prev_kv,
/// progress notifications, fragments) and how far it got. <see cref="NextRevision"/> and <see cref="ProgressDue"/> are
/// owned by the stream's pump task; cancellation may come from the receive task, hence the volatile flag.
/// </summary>
internal sealed class Watcher
{
    private readonly KeyRange range;
    private readonly bool noPut;
    private readonly bool noDelete;
    private volatile bool cancelled;

    public Watcher(long id, KeyRange range, Pb.WatchCreateRequest request, long nextRevision)
    {
        Id = id;
        this.range = range;
        noPut = request.Filters.Contains(Pb.WatchCreateRequest.Types.FilterType.Noput);
        noDelete = request.Filters.Contains(Pb.WatchCreateRequest.Types.FilterType.Nodelete);
        PrevKv = request.PrevKv;
        ProgressNotify = request.ProgressNotify;
        Fragment = request.Fragment;
        NextRevision = nextRevision;
    }

    public long Id { get; }

    public bool PrevKv { get; }

    public bool ProgressNotify { get; }

    public bool Fragment { get; }

    /// <summary>The first revision whose events this watcher has not been sent yet.</summary>
    public long NextRevision { get; set; }

    /// <summary>In etcd's unsynced group: behind the current revision since it was created with a past start or
    /// fell out of the shared buffer. Such a watcher gets its events in batches, not one response per revision.</summary>
    public bool Unsynced { get; set; }

    /// <summary>etcd's per-watcher progress flag: true when no event went out since the last progress tick, so the
    /// next tick sends a progress notification.</summary>
    public bool ProgressDue { get; set; } = true;

    public bool IsCancelled => cancelled;

    public void MarkCancelled() => cancelled = true;

    /// <summary>The events this watcher wants from <paramref name="events"/>, as etcd sends them.</summary>
    public List<Mvcc.Event> Select(IReadOnlyList<WatchEvent> events)
    {
        var selected = new List<Mvcc.Event>();
        foreach (var e in events)
        {
            if ((e.Type == WatchEventType.Put ? noPut : noDelete) || !range.Contains(e.Kv.Key))
            {
                continue;
            }
            selected.Add(EtcdProtoMapping.ToProto(e, PrevKv));
        }
        return selected;
    }
}
