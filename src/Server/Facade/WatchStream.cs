using System.Threading.Channels;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Hosting;
using CurpStore.Server.Watch;
using CurpStore.Store;
using Google.Protobuf;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>
/// One Watch call: many watchers on one bidirectional stream, as etcd's serverWatchStream. Three tasks share it:
/// <list type="bullet">
/// <item>the receive task creates and cancels watchers and takes progress requests; it queues their answers itself;</item>
/// <item>the pump moves every watcher forward: from the member's shared event buffer (<see cref="WatchHub"/>) while
/// the watcher is within it, from the store's history in bounded chunks (read on the host's loop thread) when it fell
/// behind; it also sends progress notifications, only for watchers that have been sent everything up to the revision
/// announced;</item>
/// <item>the send task writes the queued responses to the client.</item>
/// </list>
/// The queue between them is bounded. A client that does not read fills it; then the pump waits, its watchers stop
/// moving and hold nothing but their next revision, and once the client reads again they catch up from history (or are
/// cancelled with the compact revision, as etcd does, if that history was compacted meanwhile).
/// </summary>
internal sealed class WatchStream
{
    /// <summary>etcd's clientv3.InvalidWatchID: refused creates and stream-wide progress answers carry it.</summary>
    public const long InvalidWatchId = -1;

    public const string CompactedReason = "etcdserver: mvcc: required revision has been compacted";
    public const string EmptyRangeReason = "mvcc: watcher range is empty";
    public const string DuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";

    private readonly EtcdFacadeContext facade;
    private readonly WatchHub hub;
    private readonly WatchOptions options;
    private readonly WatchService service;
    private readonly IAsyncStreamReader<Pb.WatchRequest> requests;
    private readonly IServerStreamWriter<Pb.WatchResponse> responses;
    private readonly ServerCallContext call;
    private readonly Channel<Outgoing> outgoing;
    private readonly object gate = new();
    private readonly Dictionary<long, Watcher> watchers = [];
    private readonly AsyncSignal watchersChanged = new();
    private long nextAutoId;
    private bool progressRequested;
    private bool progressTickDue;

    public WatchStream(
        WatchService service, EtcdFacadeContext facade, WatchHub hub, WatchOptions options,
        IAsyncStreamReader<Pb.WatchRequest> requests, IServerStreamWriter<Pb.WatchResponse> responses, ServerCallContext call)
    {
        this.call = call;
        this.service = service;
        this.facade = facade;
        this.hub = hub;
        this.options = options;
        this.requests = requests;
        this.responses = responses;
        outgoing = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Serves the call until the client cancels it, the server stops, or a task fails. As in etcd, the client
    /// closing its side of the stream does not end it: events keep coming until the call is cancelled.</summary>
    public async Task RunAsync(CancellationToken callToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(callToken);
        var token = stopping.Token;
        var receive = ReceiveAsync(token);
        var pump = PumpAsync(token);
        var send = SendAsync(token);
        List<Task> running = [receive, pump, send];
        while (true)
        {
            var finished = await Task.WhenAny(running).ConfigureAwait(false);
            if (finished == receive && receive.IsCompletedSuccessfully)
            {
                running.Remove(receive); // the client closed its side; keep sending
                continue;
            }
            break;
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(receive, pump, send).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // stopping: the call is over
        }
        catch (Exception) when (callToken.IsCancellationRequested)
        {
            // the client went away; whatever failed on the way out has nobody to tell
        }
    }

    private async Task ReceiveAsync(CancellationToken token)
    {
        while (await requests.MoveNext(token).ConfigureAwait(false))
        {
            var request = requests.Current;
            switch (request.RequestUnionCase)
            {
                case Pb.WatchRequest.RequestUnionOneofCase.CreateRequest:
                    await CreateAsync(request.CreateRequest, token).ConfigureAwait(false);
                    break;
                case Pb.WatchRequest.RequestUnionOneofCase.CancelRequest:
                    await CancelAsync(request.CancelRequest.WatchId, token).ConfigureAwait(false);
                    break;
                case Pb.WatchRequest.RequestUnionOneofCase.ProgressRequest:
                    lock (gate)
                    {
                        progressRequested = true;
                    }
                    watchersChanged.Set();
                    break;
                default:
                    break; // etcd ignores a request it does not understand rather than ending the stream
            }
        }
    }

    private async Task CreateAsync(Pb.WatchCreateRequest create, CancellationToken token)
    {
        // etcd: an empty key is the smallest key "\0"; a range end of "\0" means every key from the key on.
        var key = create.Key.IsEmpty ? [0] : create.Key.ToByteArray();
        var rangeEnd = create.RangeEnd.ToByteArray();
        var range = new KeyRange(key, rangeEnd);
        // etcd checks read permission first, with the stream's token, and refuses with the gRPC error's text. Unlike
        // etcd 3.5, a from-key watch needs read on everything from its key on (etcd checks only the key itself).
        var denied = await facade.Auth.CheckReadAsync(call, key, rangeEnd, token).ConfigureAwait(false);
        string? refusal = null;
        Watcher? watcher = null;
        long revision;
        lock (gate)
        {
            revision = hub.CurrentRevision;
            if (denied is not null)
            {
                refusal = $"rpc error: code = {denied.Code} desc = {denied.Message}";
            }
            else if (create.StartRevision < 0)
            {
                refusal = CompactedReason;
            }
            else if (!range.IsSingleKey && !range.IsToInfinity && range.IsEmptyRange)
            {
                refusal = EmptyRangeReason;
            }
            else if (create.WatchId != 0 && watchers.ContainsKey(create.WatchId))
            {
                refusal = DuplicateIdReason;
            }
            else if (watchers.Count >= options.MaxWatchersPerStream)
            {
                refusal = EtcdStatuses.TooManyRequests.Detail; // etcd's cancel reason is the error's text
            }
            else
            {
                var id = create.WatchId != 0 ? create.WatchId : NextAutoId();
                // etcd: start 0 means "from the next revision"; a future start waits for it; a past one replays.
                watcher = new Watcher(id, range, create, create.StartRevision == 0 ? revision + 1 : create.StartRevision)
                {
                    Unsynced = create.StartRevision != 0 && create.StartRevision <= revision,
                };
            }
        }
        var response = new Pb.WatchResponse
        {
            Header = facade.Header(revision),
            WatchId = watcher?.Id ?? InvalidWatchId,
            Created = true,
            Canceled = refusal is not null,
            CancelReason = refusal ?? "",
        };
        // The created answer is queued before the pump can see the watcher, so it precedes the watcher's events.
        await EnqueueAsync(new Outgoing(null, response), token).ConfigureAwait(false);
        if (watcher is not null)
        {
            lock (gate)
            {
                watchers.Add(watcher.Id, watcher);
            }
            watchersChanged.Set();
        }
    }

    /// <summary>etcd's auto ids start at 0 and skip ids in use (the client may have chosen them).</summary>
    private long NextAutoId()
    {
        while (watchers.ContainsKey(nextAutoId))
        {
            nextAutoId++;
        }
        return nextAutoId++;
    }

    /// <summary>Cancels a watcher of this stream; an unknown id gets no answer, as in etcd.</summary>
    private async Task CancelAsync(long id, CancellationToken token)
    {
        lock (gate)
        {
            if (!watchers.Remove(id, out var watcher))
            {
                return;
            }
            watcher.MarkCancelled();
        }
        var response = new Pb.WatchResponse { Header = facade.Header(hub.CurrentRevision), WatchId = id, Canceled = true };
        await EnqueueAsync(new Outgoing(null, response), token).ConfigureAwait(false);
    }

    private async Task PumpAsync(CancellationToken token)
    {
        var progressInterval = options.ProgressNotifyInterval + TimeSpan.FromTicks(Random.Shared.NextInt64(options.ProgressNotifyInterval.Ticks / 10 + 1));
        var progressTick = Task.Delay(progressInterval, token);
        var buffered = new List<RevisionEvents>();
        while (!token.IsCancellationRequested)
        {
            // Taken before looking for work, so a change during the pass wakes the next wait at once.
            var hubAdvanced = hub.NextAdvance;
            var changed = watchersChanged.Next;
            if (progressTick.IsCompleted)
            {
                token.ThrowIfCancellationRequested();
                progressTickDue = true;
                progressTick = Task.Delay(progressInterval, token);
            }
            var moreToDo = await PassAsync(buffered, token).ConfigureAwait(false);
            if (!moreToDo)
            {
                await Task.WhenAny(hubAdvanced, changed, progressTick).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Moves every watcher forward by a bounded step, then answers progress. True when a watcher is still
    /// behind the current revision (so the pump goes round again without waiting).</summary>
    private async Task<bool> PassAsync(List<RevisionEvents> buffered, CancellationToken token)
    {
        var current = hub.CurrentRevision;
        var behind = false;
        foreach (var watcher in Snapshot())
        {
            if (watcher.IsCancelled || watcher.NextRevision > current)
            {
                continue;
            }
            if (hub.Read(watcher.NextRevision, options.MaxRevisionsPerPass, buffered, out var readThrough) == HubReadResult.Behind)
            {
                await CatchUpFromHistoryAsync(watcher, token).ConfigureAwait(false);
            }
            else if (watcher.Unsynced)
            {
                // Catching up (a past start, or back from history): the whole read in one response, as etcd sends an
                // unsynced watcher's batch.
                var events = new List<Mvcc.Event>();
                foreach (var revision in buffered)
                {
                    events.AddRange(watcher.Select(revision.Events));
                }
                await SendEventsAsync(watcher, readThrough, events, token).ConfigureAwait(false);
                watcher.NextRevision = Math.Max(watcher.NextRevision, readThrough + 1);
            }
            else
            {
                foreach (var revision in buffered)
                {
                    // One response per revision, with that revision in the header, as etcd notifies synced watchers.
                    await SendEventsAsync(watcher, revision.Revision, watcher.Select(revision.Events), token).ConfigureAwait(false);
                    watcher.NextRevision = revision.Revision + 1;
                }
                watcher.NextRevision = Math.Max(watcher.NextRevision, readThrough + 1);
            }
            if (watcher.NextRevision > current)
            {
                watcher.Unsynced = false;
            }
            behind |= !watcher.IsCancelled && watcher.NextRevision <= current;
        }
        await AnswerProgressAsync(token).ConfigureAwait(false);
        return behind;
    }

    /// <summary>One bounded chunk of the store's history for a watcher behind the shared buffer, read on the host's
    /// loop thread (the store is single-threaded). All the chunk's events go in one response with the store's
    /// current revision in the header, as etcd sends an unsynced watcher's batch.</summary>
    private async Task CatchUpFromHistoryAsync(Watcher watcher, CancellationToken token)
    {
        var (from, prevKv, machine) = (watcher.NextRevision, watcher.PrevKv, facade.Machine);
        (WatchHistory History, long Revision) read;
        while (true)
        {
            try
            {
                read = await facade.Host.InvokeAsync(_ => (machine.ReadEvents(from, options.HistoryChunkEvents, prevKv), machine.Revision), token).ConfigureAwait(false);
                break;
            }
            catch (HostInboxFullException)
            {
                await Task.Delay(options.HistoryRetryDelay, token).ConfigureAwait(false);
            }
        }
        service.CountHistoryRead();
        watcher.Unsynced = true;
        if (read.History.CompactRevision != 0)
        {
            await CancelCompactedAsync(watcher, read.History.CompactRevision, token).ConfigureAwait(false);
            return;
        }
        await SendEventsAsync(watcher, read.Revision, watcher.Select(read.History.Events), token).ConfigureAwait(false);
        watcher.NextRevision = Math.Max(watcher.NextRevision, read.History.NextRevision);
    }

    /// <summary>etcd cancels a watcher whose next revision was compacted: compact_revision set, canceled, and (as etcd's
    /// mvcc layer leaves it) revision 0 in the header.</summary>
    private async Task CancelCompactedAsync(Watcher watcher, long compactRevision, CancellationToken token)
    {
        lock (gate)
        {
            if (watcher.IsCancelled)
            {
                return; // the client cancelled it first
            }
            watcher.MarkCancelled();
            watchers.Remove(watcher.Id);
        }
        var response = new Pb.WatchResponse { Header = facade.Header(0), WatchId = watcher.Id, CompactRevision = compactRevision, Canceled = true };
        await EnqueueAsync(new Outgoing(null, response), token).ConfigureAwait(false);
    }

    private async Task SendEventsAsync(Watcher watcher, long headerRevision, List<Mvcc.Event> events, CancellationToken token)
    {
        if (events.Count == 0)
        {
            return;
        }
        watcher.ProgressDue = false;
        var response = new Pb.WatchResponse { Header = facade.Header(headerRevision), WatchId = watcher.Id };
        response.Events.AddRange(events);
        if (!watcher.Fragment)
        {
            await EnqueueAsync(new Outgoing(watcher, response), token).ConfigureAwait(false);
            return;
        }
        foreach (var fragment in Fragments(response, options.FragmentBytes))
        {
            await EnqueueAsync(new Outgoing(watcher, fragment), token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// etcd's sendFragments: a response of at least <paramref name="maxBytes"/> with two or more events is split into
    /// responses that stay under the size (a single larger event travels alone); every part but the last has
    /// fragment set.
    /// </summary>
    internal static IEnumerable<Pb.WatchResponse> Fragments(Pb.WatchResponse response, int maxBytes)
    {
        if (response.CalculateSize() < maxBytes || response.Events.Count < 2)
        {
            yield return response;
            yield break;
        }
        var index = 0;
        while (true)
        {
            var part = new Pb.WatchResponse
            {
                Header = response.Header,
                WatchId = response.WatchId,
                Created = response.Created,
                Canceled = response.Canceled,
                CompactRevision = response.CompactRevision,
                CancelReason = response.CancelReason,
                Fragment = true,
            };
            var size = part.CalculateSize();
            for (; index < response.Events.Count; index++)
            {
                var eventSize = response.Events[index].CalculateSize();
                var fieldSize = 1 + CodedOutputStream.ComputeLengthSize(eventSize) + eventSize;
                if (part.Events.Count > 0 && size + fieldSize >= maxBytes)
                {
                    break;
                }
                part.Events.Add(response.Events[index]);
                size += fieldSize;
            }
            if (index == response.Events.Count)
            {
                part.Fragment = false;
                yield return part;
                yield break;
            }
            yield return part;
        }
    }

    /// <summary>
    /// Progress goes out only when every watcher concerned has been sent everything up to the revision announced, so
    /// a client may take it as "nothing more up to here" (etcd 3.5's RequestProgressAll defers the same way). A
    /// progress request is answered with watch id -1 for the whole stream; a periodic notification goes to each
    /// progress_notify watcher that saw no event since the last tick.
    /// </summary>
    private async Task AnswerProgressAsync(CancellationToken token)
    {
        var current = hub.CurrentRevision;
        List<Watcher> all;
        bool requested;
        lock (gate)
        {
            all = [.. watchers.Values];
            requested = progressRequested && all.TrueForAll(w => w.NextRevision > current);
            if (requested)
            {
                progressRequested = false;
            }
        }
        if (requested)
        {
            await EnqueueAsync(new Outgoing(null, new Pb.WatchResponse { Header = facade.Header(current), WatchId = InvalidWatchId }), token).ConfigureAwait(false);
        }
        if (!progressTickDue)
        {
            return;
        }
        progressTickDue = false;
        foreach (var watcher in all.Where(w => w.ProgressNotify))
        {
            if (watcher.ProgressDue && watcher.NextRevision > current)
            {
                await EnqueueAsync(new Outgoing(watcher, new Pb.WatchResponse { Header = facade.Header(current), WatchId = watcher.Id }), token).ConfigureAwait(false);
            }
            watcher.ProgressDue = true;
        }
    }

    private List<Watcher> Snapshot()
    {
        lock (gate)
        {
            return [.. watchers.Values];
        }
    }

    private ValueTask EnqueueAsync(Outgoing item, CancellationToken token) => outgoing.Writer.WriteAsync(item, token);

    private async Task SendAsync(CancellationToken token)
    {
        await foreach (var item in outgoing.Reader.ReadAllAsync(token).ConfigureAwait(false))
        {
            if (item.Watcher is { IsCancelled: true })
            {
                continue; // events of a watcher cancelled after they were queued: etcd's client drops them too
            }
            await responses.WriteAsync(item.Response, token).ConfigureAwait(false);
        }
    }

    /// <summary>A queued response; <see cref="Watcher"/> is set for event and progress responses of one watcher, which
    /// are dropped if it is cancelled before they leave.</summary>
    private readonly record struct Outgoing(Watcher? Watcher, Pb.WatchResponse Response);
}
