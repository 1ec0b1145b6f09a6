using Mvcc = CurpStore.Rpc.Etcd.MvccPb;

namespace CurpStore.Wire.Etcd;

public static partial class EtcdProtoMapping
{
    /// <summary>A watch event as etcd sends it; prev_kv only when the watcher asked for it (etcd's watch server reads
    /// it only then).</summary>
    public static Mvcc.Event ToProto(Store.WatchEvent watchEvent, bool includePrevKv)
    {
        ArgumentNullException.ThrowIfNull(watchEvent);
        var proto = new Mvcc.Event
        {
            Type = watchEvent.Type == Store.WatchEventType.Delete ? Mvcc.Event.Types.EventType.Delete : Mvcc.Event.Types.EventType.Put,
            Kv = ToProto(watchEvent.Kv),
        };
        if (includePrevKv && watchEvent.PrevKv is { } previous)
        {
            proto.PrevKv = ToProto(previous);
        }
        return proto;
    }
}
