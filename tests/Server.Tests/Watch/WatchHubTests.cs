using System.Text;
using CurpStore.Server.Facade;
using CurpStore.Server.Watch;
using CurpStore.Store;
using Google.Protobuf;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>The shared event buffer on its own: bounds, eviction, "behind", resets; and etcd's fragment rule.</summary>
[TestClass]
public sealed class WatchHubTests
{
    private static IReadOnlyList<WatchEvent> Events(long revision, int count, int valueBytes = 1) =>
        [.. Enumerable.Range(0, count).Select(i => new WatchEvent(WatchEventType.Put,
            new KeyValue { Key = Encoding.UTF8.GetBytes($"k{i}"), Value = new byte[valueBytes], CreateRevision = revision, ModRevision = revision, Version = 1 }, null))];

    [TestMethod]
    public void Read_ReturnsTheRevisionsFromTheStart_AndWhereItStopped()
    {
        var hub = new WatchHub(maxEvents: 100, maxBytes: 1 << 20, currentRevision: 10);
        var read = new List<RevisionEvents>();
        Assert.AreEqual(HubReadResult.Read, hub.Read(11, 10, read, out var through));
        Assert.AreEqual(0, read.Count);
        Assert.AreEqual(10L, through);
        Assert.AreEqual(HubReadResult.Behind, hub.Read(10, 10, read, out _), "revision 10 was never buffered");

        for (var revision = 11; revision <= 15; revision++)
        {
            hub.Publish(revision, -1, Events(revision, 2));
        }
        hub.Publish(16, -1, []); // a command that changed nothing moves nothing
        Assert.AreEqual(15L, hub.CurrentRevision);

        Assert.AreEqual(HubReadResult.Read, hub.Read(13, 10, read, out through));
        CollectionAssert.AreEqual(new long[] { 13, 14, 15 }, read.Select(r => r.Revision).ToArray());
        Assert.AreEqual(15L, through);

        Assert.AreEqual(HubReadResult.Read, hub.Read(11, 2, read, out through));
        CollectionAssert.AreEqual(new long[] { 11, 12 }, read.Select(r => r.Revision).ToArray());
        Assert.AreEqual(12L, through, "a read cut by its bound covers only what it returned");

        Assert.AreEqual(HubReadResult.Read, hub.Read(16, 10, read, out through));
        Assert.AreEqual(0, read.Count);
        Assert.AreEqual(15L, through);

        hub.Publish(15, 13, []); // a compaction: no events, but revisions below it are history's to report
        Assert.AreEqual(HubReadResult.Behind, hub.Read(12, 10, read, out _));
        Assert.AreEqual(HubReadResult.Read, hub.Read(13, 10, read, out _));

        hub.Publish(15, -1, Events(15, 1)); // out of order: never expected, must not fail the loop; history takes over
        Assert.AreEqual(HubReadResult.Behind, hub.Read(15, 10, read, out _));
        Assert.AreEqual(HubReadResult.Read, hub.Read(16, 10, read, out through));
        Assert.AreEqual(15L, through);
    }

    [TestMethod]
    public void FullBuffer_DropsTheOldestRevisions_WhichThenReadAsBehind()
    {
        var hub = new WatchHub(maxEvents: 6, maxBytes: 1 << 20, currentRevision: 0);
        for (var revision = 1; revision <= 5; revision++)
        {
            hub.Publish(revision, -1, Events(revision, 2));
        }
        Assert.AreEqual(3, hub.BufferedRevisions, "6 events hold three revisions of two");
        var read = new List<RevisionEvents>();
        Assert.AreEqual(HubReadResult.Behind, hub.Read(2, 10, read, out _));
        Assert.AreEqual(HubReadResult.Read, hub.Read(3, 10, read, out _));
        CollectionAssert.AreEqual(new long[] { 3, 4, 5 }, read.Select(r => r.Revision).ToArray());
    }

    [TestMethod]
    public void ByteBound_AndARevisionLargerThanTheBuffer_AreNeverBuffered()
    {
        var hub = new WatchHub(maxEvents: 100, maxBytes: 5_000, currentRevision: 0);
        hub.Publish(1, -1, Events(1, 1, valueBytes: 2_000));
        hub.Publish(2, -1, Events(2, 1, valueBytes: 2_000));
        hub.Publish(3, -1, Events(3, 1, valueBytes: 2_000));
        var read = new List<RevisionEvents>();
        Assert.AreEqual(HubReadResult.Behind, hub.Read(1, 10, read, out _), "three 2 KB revisions do not fit in 5 KB");
        Assert.AreEqual(HubReadResult.Read, hub.Read(2, 10, read, out _));

        hub.Publish(4, -1, Events(4, 101));
        Assert.AreEqual(0, hub.BufferedRevisions);
        Assert.AreEqual(HubReadResult.Behind, hub.Read(4, 10, read, out _), "the oversized revision is only in the history");
        Assert.AreEqual(HubReadResult.Read, hub.Read(5, 10, read, out var through));
        Assert.AreEqual(4L, through);
    }

    [TestMethod]
    public void Reset_AfterASnapshot_LeavesEverythingBeforeToHistory_AndWakesWaiters()
    {
        var hub = new WatchHub(maxEvents: 100, maxBytes: 1 << 20, currentRevision: 0);
        hub.Publish(1, -1, Events(1, 1));
        var advanced = hub.NextAdvance;
        Assert.IsFalse(advanced.IsCompleted);
        hub.Reset(40, -1);
        Assert.IsTrue(advanced.IsCompleted);
        Assert.AreEqual(40L, hub.CurrentRevision);
        var read = new List<RevisionEvents>();
        Assert.AreEqual(HubReadResult.Behind, hub.Read(1, 10, read, out _));
        Assert.AreEqual(HubReadResult.Behind, hub.Read(40, 10, read, out _));
        hub.Publish(41, -1, Events(41, 1));
        Assert.AreEqual(HubReadResult.Read, hub.Read(41, 10, read, out _));
        Assert.AreEqual(41L, read.Single().Revision);
    }

    [TestMethod]
    public void Fragments_FollowEtcd_SplitUnderTheLimit_SingleBigEventsTravelAlone()
    {
        var response = new Pb.WatchResponse { WatchId = 3, Header = new Pb.ResponseHeader { Revision = 9 } };
        foreach (var size in new[] { 300, 300, 300, 1_500, 300, 300 })
        {
            response.Events.Add(new Mvcc.Event { Kv = new Mvcc.KeyValue { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFrom(new byte[size]) } });
        }
        var parts = WatchStream.Fragments(response, 1_000).ToList();
        CollectionAssert.AreEqual(new[] { 3, 1, 2 }, parts.Select(p => p.Events.Count).ToArray());
        CollectionAssert.AreEqual(new[] { true, true, false }, parts.Select(p => p.Fragment).ToArray());
        Assert.IsTrue(parts.All(p => p.WatchId == 3 && p.Header.Revision == 9));
        Assert.IsTrue(parts.Where(p => p.Events.Count > 1).All(p => p.CalculateSize() < 1_000));

        var small = new Pb.WatchResponse { WatchId = 1 };
        small.Events.Add(response.Events[0]);
        Assert.AreSame(small, WatchStream.Fragments(small, 1_000).Single(), "below the limit nothing is split");
        var single = new Pb.WatchResponse();
        single.Events.Add(response.Events[3]);
        Assert.IsFalse(WatchStream.Fragments(single, 1_000).Single().Fragment, "one event is never split");
    }
}
