using CurpStore.Rpc;
using Google.Protobuf;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>
/// etcd's Watch service on one in-process member, over the project's gRPC client, request by request. The member's
/// shared event buffer is small (64 events) so that catching up from history is exercised, progress notifications come
/// every 200 ms, and fragments are cut at 4 KiB. Each test uses keys of its own and revisions it wrote itself.
/// </summary>
[TestClass]
public sealed class WatchServiceTests
{
    private const int BufferEvents = 64;
    private const int FragmentBytes = 4096;
    private static InProcessMembers? cluster;

    private static GrpcChannel Channel => cluster!.Channels[0];

    private static ServerProcess Member => cluster!.Members[0];

    [ClassInitialize]
    public static async Task StartMember(TestContext context)
    {
        cluster = await InProcessMembers.StartAsync(1, options => options with
        {
            Watch = options.Watch with
            {
                EventBufferMaxEvents = BufferEvents,
                ProgressNotifyInterval = TimeSpan.FromMilliseconds(200),
                FragmentBytes = FragmentBytes,
            },
        });
    }

    [ClassCleanup]
    public static async Task StopMember()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task Create_AnswersCreatedWithAFullHeader_ThenEachChangeOfTheKeyInRevisionOrder()
    {
        var start = await Kv.PutAsync(Channel, "create/k", "v0");
        await Kv.WaitForRevisionAsync(Channel, start);
        using var watch = new WatchClient(Channel);
        var created = await watch.CreateAsync("create/k", startRevision: start + 1);
        Assert.AreEqual(0L, created.WatchId, "etcd's first automatic watch id is 0");
        Assert.IsFalse(created.Canceled);
        Assert.AreEqual(Member.ClusterId, created.Header.ClusterId);
        Assert.AreEqual(Member.MemberId, created.Header.MemberId);
        Assert.IsTrue(created.Header.RaftTerm > 0, "raft term missing");
        Assert.AreEqual(start, created.Header.Revision, "the created header carries the member's current revision");

        var r1 = await Kv.PutAsync(Channel, "create/k", "v1");
        await Kv.PutAsync(Channel, "create/other", "x");
        var r2 = await Kv.PutAsync(Channel, "create/k", "v2");
        var r3 = await Kv.DeleteAsync(Channel, "create/k");

        var (events, responses) = await watch.EventsAsync(3);
        CollectionAssert.AreEqual(new[] { r1, r2, r3 }, events.Select(e => e.Kv.ModRevision).ToArray());
        CollectionAssert.AreEqual(new[] { "v1", "v2", "" }, events.Select(e => WatchClient.Text(e.Kv.Value)).ToArray());
        CollectionAssert.AreEqual(
            new[] { Mvcc.Event.Types.EventType.Put, Mvcc.Event.Types.EventType.Put, Mvcc.Event.Types.EventType.Delete },
            events.Select(e => e.Type).ToArray());
        Assert.AreEqual(start, events[0].Kv.CreateRevision);
        Assert.AreEqual(2L, events[0].Kv.Version);
        foreach (var response in responses)
        {
            Assert.AreEqual(0L, response.WatchId);
            Assert.AreEqual(1, response.Events.Count, "a live watcher gets one response per revision");
            Assert.AreEqual(response.Events[0].Kv.ModRevision, response.Header.Revision, "a live event's header carries its revision");
            Assert.AreEqual(Member.MemberId, response.Header.MemberId);
            Assert.AreEqual(Member.ClusterId, response.Header.ClusterId);
            Assert.IsTrue(response.Header.RaftTerm > 0);
        }
    }

    [TestMethod]
    public async Task Cancel_IsAnsweredWithCanceled_AndStopsTheEvents_AnUnknownIdGetsNoAnswer()
    {
        var start = await Kv.PutAsync(Channel, "cancel/marker", "m");
        using var watch = new WatchClient(Channel);
        var first = (await watch.CreateAsync("cancel/a", startRevision: start + 1)).WatchId;
        await watch.CancelAsync(first);
        var canceled = await watch.NextAsync();
        Assert.IsTrue(canceled.Canceled);
        Assert.IsFalse(canceled.Created);
        Assert.AreEqual(first, canceled.WatchId);
        Assert.AreEqual(Member.MemberId, canceled.Header.MemberId);
        Assert.IsTrue(canceled.Header.Revision >= 1);

        await watch.CancelAsync(12345);
        var second = (await watch.CreateAsync("cancel/b", startRevision: start + 1)).WatchId;
        Assert.AreNotEqual(first, second);
        await Kv.PutAsync(Channel, "cancel/a", "not for the cancelled watcher");
        var sentinel = await Kv.PutAsync(Channel, "cancel/b", "sentinel");

        var next = await watch.NextAsync();
        Assert.AreEqual(second, next.WatchId, $"after the cancel the next response must be the other watcher's event: {next}");
        Assert.AreEqual(sentinel, next.Events.Single().Kv.ModRevision);
    }

    [TestMethod]
    public async Task PrefixRangeAndFromKey_SelectExactlyTheirKeys()
    {
        var start = await Kv.PutAsync(Channel, "range/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        var prefix = (await watch.CreateAsync("range/p/", startRevision: start, prefix: true)).WatchId;
        var range = (await watch.CreateAsync("range/r/b", startRevision: start, rangeEnd: "range/r/d")).WatchId;
        var fromKey = (await watch.CreateAsync("range/z", startRevision: start, rangeEnd: "\0")).WatchId;

        foreach (var key in new[] { "range/p/1", "range/pq", "range/r/a", "range/r/b", "range/r/c", "range/r/d", "range/p/2", "range/z", "range/zz" })
        {
            await Kv.PutAsync(Channel, key, "v");
        }

        var (events, responses) = await watch.EventsAsync(6);
        var keysByWatcher = responses.SelectMany(r => r.Events.Select(e => (r.WatchId, Key: WatchClient.Text(e.Kv.Key))))
            .GroupBy(x => x.WatchId)
            .ToDictionary(g => g.Key, g => string.Join(",", g.Select(x => x.Key)));
        Assert.AreEqual("range/p/1,range/p/2", keysByWatcher[prefix]);
        Assert.AreEqual("range/r/b,range/r/c", keysByWatcher[range]);
        Assert.AreEqual("range/z,range/zz", keysByWatcher[fromKey]);
    }

    [TestMethod]
    public async Task PastStart_ReplaysTheHistoryInOneResponse_WithTheCurrentRevisionInTheHeader()
    {
        var r1 = await Kv.PutAsync(Channel, "past/k", "a");
        var r2 = await Kv.PutAsync(Channel, "past/k", "b");
        var r3 = await Kv.DeleteAsync(Channel, "past/k");
        var now = await Kv.PutAsync(Channel, "past/other", "x");
        await Kv.WaitForRevisionAsync(Channel, now);

        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("past/k", startRevision: r1);
        var replay = await watch.NextAsync();
        CollectionAssert.AreEqual(new[] { r1, r2, r3 }, replay.Events.Select(e => e.Kv.ModRevision).ToArray());
        Assert.AreEqual(now, replay.Header.Revision, "a catching-up batch carries the current revision, as etcd's");
        Assert.AreEqual(0L, replay.Events[2].Kv.CreateRevision, "a delete event carries only the key and its revision");
    }

    [TestMethod]
    public async Task PastStartBehindTheSharedBuffer_IsReadFromTheStoreHistory()
    {
        var first = await Kv.PutAsync(Channel, "old/k", "0");
        for (var i = 1; i <= BufferEvents * 2; i++)
        {
            await Kv.PutAsync(Channel, "old/k", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var historyReads = Member.Watches.HistoryReads;
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("old/k", startRevision: first);
        var (events, _) = await watch.EventsAsync((BufferEvents * 2) + 1);
        CollectionAssert.AreEqual(Enumerable.Range(0, (BufferEvents * 2) + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            events.Select(e => WatchClient.Text(e.Kv.Value)).ToArray());
        Assert.IsTrue(Member.Watches.HistoryReads > historyReads, "the start was behind the shared buffer; it must come from history");
    }

    [TestMethod]
    public async Task FutureStart_WaitsForThatRevision()
    {
        var now = await Kv.PutAsync(Channel, "future/k", "v0");
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("future/k", startRevision: now + 3);
        await Kv.PutAsync(Channel, "future/k", "v1");
        await Kv.PutAsync(Channel, "future/k", "v2");
        var third = await Kv.PutAsync(Channel, "future/k", "v3");
        Assert.AreEqual(now + 3, third, "nothing else writes during this test");

        var first = (await watch.NextAsync()).Events.Single();
        Assert.AreEqual(third, first.Kv.ModRevision);
        Assert.AreEqual("v3", WatchClient.Text(first.Kv.Value));
    }

    [TestMethod]
    public async Task Filters_NoPutAndNoDelete_DropThoseEvents()
    {
        var start = await Kv.PutAsync(Channel, "filter/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        var noPut = new Pb.WatchCreateRequest { Key = WatchClient.Bytes("filter/k"), StartRevision = start };
        noPut.Filters.Add(Pb.WatchCreateRequest.Types.FilterType.Noput);
        var deletesOnly = (await watch.CreateAsync(noPut)).WatchId;
        var noDelete = new Pb.WatchCreateRequest { Key = WatchClient.Bytes("filter/k"), StartRevision = start };
        noDelete.Filters.Add(Pb.WatchCreateRequest.Types.FilterType.Nodelete);
        var putsOnly = (await watch.CreateAsync(noDelete)).WatchId;

        await Kv.PutAsync(Channel, "filter/k", "1");
        await Kv.DeleteAsync(Channel, "filter/k");
        await Kv.PutAsync(Channel, "filter/k", "2");
        await Kv.DeleteAsync(Channel, "filter/k");

        var (_, responses) = await watch.EventsAsync(4);
        var types = responses.GroupBy(r => r.WatchId).ToDictionary(g => g.Key, g => g.SelectMany(r => r.Events).Select(e => e.Type).Distinct().ToList());
        CollectionAssert.AreEqual(new[] { Mvcc.Event.Types.EventType.Delete }, types[deletesOnly]);
        CollectionAssert.AreEqual(new[] { Mvcc.Event.Types.EventType.Put }, types[putsOnly]);
        Assert.AreEqual(2, responses.Where(r => r.WatchId == deletesOnly).Sum(r => r.Events.Count));
    }

    [TestMethod]
    public async Task PrevKv_CarriesTheValueBeforeEachChange_OnlyForWatchersThatAsked()
    {
        var start = await Kv.PutAsync(Channel, "prev/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        var withPrev = (await watch.CreateAsync("prev/k", startRevision: start, prevKv: true)).WatchId;
        var withoutPrev = (await watch.CreateAsync("prev/k", startRevision: start)).WatchId;
        await Kv.PutAsync(Channel, "prev/k", "a");
        await Kv.PutAsync(Channel, "prev/k", "b");
        await Kv.DeleteAsync(Channel, "prev/k");

        var (_, responses) = await watch.EventsAsync(6);
        var prev = responses.Where(r => r.WatchId == withPrev).SelectMany(r => r.Events).ToList();
        Assert.IsNull(prev[0].PrevKv, "a creation has no previous value");
        Assert.AreEqual("a", WatchClient.Text(prev[1].PrevKv.Value));
        Assert.AreEqual("b", WatchClient.Text(prev[2].PrevKv.Value));
        Assert.AreEqual("prev/k", WatchClient.Text(prev[2].PrevKv.Key));
        Assert.IsTrue(responses.Where(r => r.WatchId == withoutPrev).SelectMany(r => r.Events).All(e => e.PrevKv is null));
    }

    [TestMethod]
    public async Task WatchIds_ClientChosen_Automatic_Duplicate_AndRefusedCreates_AsEtcd()
    {
        var start = await Kv.PutAsync(Channel, "ids/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        Assert.AreEqual(1L, (await watch.CreateAsync("ids/a", startRevision: start, watchId: 1)).WatchId);
        Assert.AreEqual(0L, (await watch.CreateAsync("ids/b", startRevision: start)).WatchId);
        Assert.AreEqual(2L, (await watch.CreateAsync("ids/c", startRevision: start)).WatchId, "automatic ids skip ids in use");
        Assert.AreEqual(7L, (await watch.CreateAsync("ids/d", startRevision: start, watchId: 7)).WatchId);

        AssertRefused(await watch.CreateAsync("ids/e", startRevision: start, watchId: 7), "mvcc: duplicate watch ID provided on the WatchStream");
        AssertRefused(await watch.CreateAsync("ids/z", startRevision: start, rangeEnd: "ids/a"), "mvcc: watcher range is empty");
        AssertRefused(await watch.CreateAsync("ids/same", startRevision: start, rangeEnd: "ids/same"), "mvcc: watcher range is empty");
        AssertRefused(await watch.CreateAsync(new Pb.WatchCreateRequest { Key = WatchClient.Bytes("ids/a"), StartRevision = -1 }),
            "etcdserver: mvcc: required revision has been compacted");
        Assert.AreEqual(3L, (await watch.CreateAsync("ids/f", startRevision: start)).WatchId, "the stream still works after refusals");

        // Every watcher is live: one write reaches the watchers it concerns.
        await Kv.PutAsync(Channel, "ids/d", "x");
        var response = await watch.NextAsync();
        Assert.AreEqual(7L, response.WatchId);
    }

    private static void AssertRefused(Pb.WatchResponse response, string reason)
    {
        Assert.IsTrue(response.Created && response.Canceled, $"expected a refused create: {response}");
        Assert.AreEqual(-1L, response.WatchId);
        Assert.AreEqual(reason, response.CancelReason);
        Assert.AreEqual(Member.MemberId, response.Header.MemberId);
    }

    [TestMethod]
    public async Task CompactedStart_IsCreatedThenCanceledWithTheCompactRevision()
    {
        var r1 = await Kv.PutAsync(Channel, "compact/k", "1");
        await Kv.PutAsync(Channel, "compact/k", "2");
        var r3 = await Kv.PutAsync(Channel, "compact/k", "3");
        await Kv.CompactAsync(Channel, r3);
        await Kv.WaitForCompactionAsync(Channel, r3);

        using var watch = new WatchClient(Channel);
        var created = await watch.CreateAsync("compact/k", startRevision: r1);
        Assert.IsFalse(created.Canceled, "etcd creates the watcher first and cancels it when it syncs");
        var canceled = await watch.NextAsync();
        Assert.IsTrue(canceled.Canceled);
        Assert.AreEqual(r3, canceled.CompactRevision);
        Assert.AreEqual(created.WatchId, canceled.WatchId);
        Assert.AreEqual(0, canceled.Events.Count);
        Assert.AreEqual(0L, canceled.Header.Revision, "etcd's mvcc layer leaves the revision of this response at 0");
        Assert.AreEqual(Member.ClusterId, canceled.Header.ClusterId);

        // From the compact revision itself the history is still there.
        await watch.CreateAsync("compact/k", startRevision: r3);
        Assert.AreEqual("3", WatchClient.Text((await watch.NextAsync()).Events.Single().Kv.Value));
    }

    [TestMethod]
    public async Task ProgressRequest_IsAnsweredForTheStream_WithIdMinusOneAndTheCurrentRevision()
    {
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("progress/k");
        var now = await Kv.PutAsync(Channel, "progress/other", "x");
        await Kv.WaitForRevisionAsync(Channel, now);
        await watch.RequestProgressAsync();
        var progress = await watch.NextAsync();
        Assert.AreEqual(-1L, progress.WatchId);
        Assert.AreEqual(0, progress.Events.Count);
        Assert.IsFalse(progress.Created || progress.Canceled);
        Assert.AreEqual(now, progress.Header.Revision);
        Assert.AreEqual(Member.MemberId, progress.Header.MemberId);
    }

    [TestMethod]
    public async Task ProgressRequest_WhileAWatcherReplaysHistory_ComesOnlyAfterItsEvents()
    {
        const int Writes = BufferEvents * 3;
        var first = await Kv.PutAsync(Channel, "deferred/k", "0");
        long last = first;
        for (var i = 1; i < Writes; i++)
        {
            last = await Kv.PutAsync(Channel, "deferred/k", $"{i}");
        }
        await Kv.WaitForRevisionAsync(Channel, last);
        using var watch = new WatchClient(Channel);
        await watch.SendAsync(new Pb.WatchCreateRequest { Key = WatchClient.Bytes("deferred/k"), StartRevision = first });
        await watch.RequestProgressAsync();

        Assert.IsTrue((await watch.NextAsync()).Created);
        var events = 0;
        Pb.WatchResponse response;
        while ((response = await watch.NextAsync()).WatchId != -1)
        {
            events += response.Events.Count;
        }
        Assert.AreEqual(Writes, events, "the progress announcement overtook events it claims were sent");
        Assert.IsTrue(response.Header.Revision >= last);
    }

    [TestMethod]
    public async Task ProgressNotify_SendsEmptyResponsesForThatWatcher_AtTheCurrentRevision()
    {
        var now = await Kv.PutAsync(Channel, "notify/other", "x");
        await Kv.WaitForRevisionAsync(Channel, now);
        using var watch = new WatchClient(Channel);
        var id = (await watch.CreateAsync(new Pb.WatchCreateRequest { Key = WatchClient.Bytes("notify/k"), ProgressNotify = true, WatchId = 5 })).WatchId;
        var notification = await watch.NextAsync();
        Assert.AreEqual(id, notification.WatchId);
        Assert.AreEqual(0, notification.Events.Count);
        Assert.IsFalse(notification.Created || notification.Canceled);
        Assert.IsTrue(notification.Header.Revision >= now);
    }

    [TestMethod]
    public async Task ManyConcurrentWrites_ArriveInRevisionOrder_WithoutGapOrDuplicate_TxnEventsTogether()
    {
        const int Writers = 4;
        const int PerWriter = 150;
        var start = await Kv.PutAsync(Channel, "order/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("order/", startRevision: start, prefix: true);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await Kv.PutAsync(Channel, $"order/w{w}/{i}", "v");
            }
        })));
        var txn = await Kv.PutAllAsync(Channel, ("order/t/a", "1"), ("order/t/b", "2"), ("order/t/c", "3"));

        var (events, responses) = await watch.EventsAsync((Writers * PerWriter) + 3);
        var revisions = events.Select(e => e.Kv.ModRevision).ToList();
        for (var i = 1; i < Writers * PerWriter; i++)
        {
            Assert.AreEqual(revisions[i - 1] + 1, revisions[i], $"gap or duplicate at event {i}");
        }
        Assert.AreEqual(start, revisions[0]);
        Assert.AreEqual(Writers * PerWriter, events.Take(Writers * PerWriter).Select(e => WatchClient.Text(e.Kv.Key)).Distinct().Count());
        var last = responses[^1];
        Assert.AreEqual(3, last.Events.Count, "a txn's events travel in one response");
        Assert.IsTrue(last.Events.All(e => e.Kv.ModRevision == txn));
    }

    [TestMethod]
    public async Task SlowReader_FallsBehindTheSharedBuffer_ThenCatchesUpFromHistory_InOrder()
    {
        const int Writes = 1500;
        var value = new string('v', 1024);
        var start = await Kv.PutAsync(Channel, "slow/marker", "m") + 1;
        var historyReads = Member.Watches.HistoryReads;
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("slow/", startRevision: start, prefix: true);

        // The client reads nothing while 1.5 MB of events are produced: far beyond HTTP/2's window and the buffer.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < Writes; i += 4)
            {
                await Kv.PutAsync(Channel, $"slow/{i:D5}", value);
            }
        })));

        var (events, _) = await watch.EventsAsync(Writes);
        var revisions = events.Select(e => e.Kv.ModRevision).ToList();
        CollectionAssert.AreEqual(Enumerable.Range(0, Writes).Select(i => start + i).ToList(), revisions, "events out of order, missing or repeated");
        Assert.IsTrue(events.All(e => WatchClient.Text(e.Kv.Value) == value));
        Assert.IsTrue(Member.Watches.HistoryReads > historyReads, "the unread stream should have left the shared buffer and caught up from history");
    }

    [TestMethod]
    public async Task SlowReader_WhoseHistoryIsCompactedMeanwhile_IsCanceledWithTheCompactRevision()
    {
        const int Writes = 1000;
        var value = new string('c', 1024);
        var start = await Kv.PutAsync(Channel, "gone/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        await watch.CreateAsync("gone/", startRevision: start, prefix: true);
        long last = 0;
        for (var i = 0; i < Writes; i++)
        {
            last = await Kv.PutAsync(Channel, $"gone/{i:D5}", value);
        }
        await Kv.CompactAsync(Channel, last);
        await Kv.WaitForCompactionAsync(Channel, last);

        var events = new List<Mvcc.Event>();
        Pb.WatchResponse response;
        while (!(response = await watch.NextAsync()).Canceled)
        {
            events.AddRange(response.Events);
        }
        Assert.AreEqual(last, response.CompactRevision);
        Assert.IsTrue(events.Count < Writes, "the stream could not have delivered everything before the compaction");
        CollectionAssert.AreEqual(Enumerable.Range(0, events.Count).Select(i => start + i).ToList(), events.Select(e => e.Kv.ModRevision).ToList(),
            "what did arrive before the cancel must be complete and in order");
    }

    [TestMethod]
    public async Task Fragment_SplitsALargeRevision_OnlyForTheWatcherThatAsked()
    {
        var start = await Kv.PutAsync(Channel, "frag/marker", "m") + 1;
        using var watch = new WatchClient(Channel);
        var fragmented = (await watch.CreateAsync(new Pb.WatchCreateRequest { Key = WatchClient.Bytes("frag/"), RangeEnd = WatchClient.Bytes("frag0"), StartRevision = start, Fragment = true })).WatchId;
        var whole = (await watch.CreateAsync("frag/", startRevision: start, prefix: true)).WatchId;
        var value = new string('f', 1000);
        var revision = await Kv.PutAllAsync(Channel, [.. Enumerable.Range(0, 12).Select(i => ($"frag/{i:D2}", value))]);

        var (_, responses) = await watch.EventsAsync(24);
        var parts = responses.Where(r => r.WatchId == fragmented).ToList();
        Assert.IsTrue(parts.Count > 1, "12 KB in one revision should have been split at 4 KiB");
        Assert.IsTrue(parts.SkipLast(1).All(p => p.Fragment) && !parts[^1].Fragment, "every part but the last is marked as a fragment");
        Assert.IsTrue(parts.All(p => p.CalculateSize() < FragmentBytes));
        CollectionAssert.AreEqual(Enumerable.Range(0, 12).Select(i => $"frag/{i:D2}").ToList(), parts.SelectMany(p => p.Events).Select(e => WatchClient.Text(e.Kv.Key)).ToList());
        Assert.IsTrue(parts.SelectMany(p => p.Events).All(e => e.Kv.ModRevision == revision));
        var unsplit = responses.Single(r => r.WatchId == whole);
        Assert.AreEqual(12, unsplit.Events.Count);
        Assert.IsFalse(unsplit.Fragment);
    }

    [TestMethod]
    public async Task NodeEtcd3_WatchesAPrefixWithPrevKv_ThroughGrpcJs()
    {
        using var result = await Processes.NodeInterop.RunAsync("etcd3-watch.js", Channel.Address.ToString().TrimEnd('/'), "node/");
        var events = result.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => $"{e.GetProperty("type").GetString()} {e.GetProperty("key").GetString()}={e.GetProperty("value").GetString()} prev={e.GetProperty("previous").GetString() ?? "-"}")
            .ToList();
        CollectionAssert.AreEqual(new[] { "put node/a=1 prev=-", "put node/b=2 prev=-", "put node/a=3 prev=1", "delete node/b= prev=2" }, events);
        var revisions = result.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("modRevision").GetInt64()).ToList();
        CollectionAssert.AreEqual(Enumerable.Range(0, 4).Select(i => revisions[0] + i).ToList(), revisions);
    }

    [TestMethod]
    public async Task ManyStreams_EachGetsEveryEvent()
    {
        var start = await Kv.PutAsync(Channel, "streams/marker", "m") + 1;
        var watches = Enumerable.Range(0, 8).Select(_ => new WatchClient(Channel)).ToList();
        try
        {
            foreach (var watch in watches)
            {
                await watch.CreateAsync("streams/k", startRevision: start);
            }
            for (var i = 0; i < 20; i++)
            {
                await Kv.PutAsync(Channel, "streams/k", $"{i}");
            }
            foreach (var watch in watches)
            {
                var (events, _) = await watch.EventsAsync(20);
                CollectionAssert.AreEqual(Enumerable.Range(0, 20).Select(i => $"{i}").ToList(), events.Select(e => WatchClient.Text(e.Kv.Value)).ToList());
            }
        }
        finally
        {
            watches.ForEach(w => w.Dispose());
        }
    }
}
