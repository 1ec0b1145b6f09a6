using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults;

/// <summary>
/// One watcher on the workload's key prefix with prev_kv, from revision 1, on one member. A broken stream is opened
/// again from the last revision seen + 1 (on the same member, once it answers again), as etcd's clients resume. Every
/// event is kept for <see cref="WatchChecker"/>; a watch the member cancels (compaction, or any other reason) is noted
/// as a problem, since the run never compacts.
/// </summary>
internal sealed class WatchRecorder(string name, Func<GrpcChannel> channel)
{
    private readonly List<WatchedEvent> events = [];
    private readonly List<string> problems = [];
    private long lastRevision;

    public string Name { get; } = name;

    public long LastRevision => Interlocked.Read(ref lastRevision);

    public int Reconnects { get; private set; }

    /// <summary>Responses received (created answers and progress included): tells a stream that never answered from
    /// one that answered but carried no events.</summary>
    public long Responses => Interlocked.Read(ref responses);

    private long responses;

    public IReadOnlyList<WatchedEvent> Events
    {
        get
        {
            lock (events)
            {
                return [.. events];
            }
        }
    }

    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (problems)
            {
                return [.. problems];
            }
        }
    }

    /// <summary>Watches until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await WatchOnceAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (MemberCluster.IsCallFailure(e))
            {
                // the member is down, paused, cut off or gone: resume from the last revision seen
            }
            if (!stop.IsCancellationRequested)
            {
                Reconnects++;
                try
                {
                    await Task.Delay(300, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits (bounded) until an event at or after <paramref name="revision"/> has arrived.</summary>
    public async Task<bool> WaitForRevisionAsync(long revision, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (LastRevision < revision && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
        return LastRevision >= revision;
    }

    private async Task WatchOnceAsync(CancellationToken stop)
    {
        using var call = channel().DuplexStreaming(WatchMethods.Watch, new CallOptions(CancellationToken: stop));
        var prefix = Encoding.UTF8.GetBytes(Workload.Prefix);
        await call.RequestStream.WriteAsync(new Pb.WatchRequest
        {
            CreateRequest = new Pb.WatchCreateRequest
            {
                Key = ByteString.CopyFrom(prefix),
                RangeEnd = ByteString.CopyFrom(Curp.KeyRange.PrefixEnd(prefix)),
                StartRevision = LastRevision + 1,
                PrevKv = true,
            },
        }, stop).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            Interlocked.Increment(ref responses);
            if (response.Canceled)
            {
                lock (problems)
                {
                    problems.Add($"{Name}: the member canceled the watch at revision {LastRevision + 1} (compact revision {response.CompactRevision}): {response.CancelReason}");
                }
                return;
            }
            foreach (var e in response.Events)
            {
                var kv = e.Kv;
                var recorded = new WatchedEvent(kv.Key.ToStringUtf8(), e.Type == Rpc.Etcd.MvccPb.Event.Types.EventType.Delete, kv.Value.ToStringUtf8(),
                    kv.ModRevision, kv.Version, e.PrevKv?.Value.ToStringUtf8(), e.PrevKv?.ModRevision ?? 0);
                lock (events)
                {
                    events.Add(recorded);
                }
                Interlocked.Exchange(ref lastRevision, Math.Max(LastRevision, kv.ModRevision));
            }
        }
    }
}
