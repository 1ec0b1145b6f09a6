namespace CurpStore.Client.Tests;

/// <summary>Watch through the client: events in revision order, past starts, filters, prev_kv, compaction, and a
/// watch that resumes on another member when its member goes away.</summary>
[TestClass]
public sealed class WatchTests
{
    private static CurpClient Client => SharedCluster.Client;

    private static async Task<List<WatchEvent>> TakeAsync(IAsyncEnumerable<WatchEvent> events, int count)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var taken = new List<WatchEvent>();
        await foreach (var change in events.WithCancellation(limit.Token))
        {
            taken.Add(change);
            if (taken.Count == count)
            {
                break;
            }
        }
        return taken;
    }

    [TestMethod]
    public async Task FromAPastRevision_ReplaysEveryChange_InOrder_WithPrevKvAndDeletes()
    {
        var first = await Client.PutAsync("wt/a", "1");
        await Client.PutAsync("wt/b", "1");
        await Client.PutAsync("wt/a", "2");
        var deleted = await Client.DeleteAsync("wt/b");
        var events = await TakeAsync(Client.WatchAsync("wt/", new WatchOptions { Prefix = true, StartRevision = first.Revision, PrevKv = true }), 4);
        CollectionAssert.AreEqual(
            new[] { "Put wt/a 1", "Put wt/b 1", "Put wt/a 2", "Delete wt/b " },
            events.Select(e => $"{e.Type} {e.Kv.KeyString} {e.Kv.ValueString}").ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(0, 4).Select(i => first.Revision + i).ToArray(), events.Select(e => e.Kv.ModRevision).ToArray());
        Assert.AreEqual("1", events[2].PrevKv!.ValueString, "prev_kv of the overwrite");
        Assert.AreEqual(deleted.Revision, events[3].Kv.ModRevision);
        Assert.AreEqual("1", events[3].PrevKv!.ValueString, "prev_kv of the delete");
    }

    [TestMethod]
    public async Task NewChanges_AreDelivered_AndFiltersLeaveOutPutsOrDeletes()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var deletesOnly = TakeAsync(Client.WatchAsync("wf/", new WatchOptions { Prefix = true, NoPut = true }, stop.Token), 1);
        var putsOnly = TakeAsync(Client.WatchAsync("wf/", new WatchOptions { Prefix = true, NoDelete = true }, stop.Token), 2);
        await Task.Delay(300); // both watches are created before the writes (otherwise start_revision 0 may miss them)
        var put = await Client.PutAsync("wf/x", "1");
        var deleted = await Client.DeleteAsync("wf/x");
        var put2 = await Client.PutAsync("wf/y", "2");
        Assert.AreEqual(deleted.Revision, (await deletesOnly).Single().Kv.ModRevision);
        CollectionAssert.AreEqual(new[] { put.Revision, put2.Revision }, (await putsOnly).Select(e => e.Kv.ModRevision).ToArray());
    }

    [TestMethod]
    public async Task ACompactedStartRevision_IsEtcdsCompactedError()
    {
        var old = await Client.PutAsync("wc/a", "1");
        var latest = await Client.PutAsync("wc/a", "2");
        await Client.CompactAsync(latest.Revision);
        // A watch is served from its member's applied state: a follower may not have applied the compaction yet (then
        // it still replays the old revision, as etcd's would), so try until the member serving it has.
        EtcdException? error = null;
        for (var attempt = 0; attempt < 50 && error is null; attempt++)
        {
            try
            {
                await TakeAsync(Client.WatchAsync("wc/a", new WatchOptions { StartRevision = old.Revision }), 1);
                await Task.Delay(100);
            }
            catch (EtcdException e)
            {
                error = e;
            }
        }
        Assert.IsNotNull(error, "the compacted start revision was never refused");
        Assert.AreEqual((Rpc.GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"), (error.StatusCode, error.Message));
    }

    [TestMethod]
    public async Task AWatchWhoseMemberStops_ResumesOnAnother_WithoutLosingOrRepeatingARevision()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await cluster.WaitForLeaderAsync();
        // The client knows one endpoint per member; its watch starts on one of them.
        await using var client = await CurpClient.ConnectAsync(cluster.Endpoints, new CurpClientOptions { DefaultTimeout = TimeSpan.FromSeconds(10) });
        var first = await client.PutAsync("wr/0", "v");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watched = TakeAsync(client.WatchAsync("wr/", new WatchOptions { Prefix = true, StartRevision = first.Revision }, stop.Token), 40);
        var revisions = new List<long> { first.Revision };
        for (var i = 1; i < 40; i++)
        {
            if (i is 8 or 18 or 28)
            {
                // Every member is stopped once, one at a time (a quorum stays): whichever served the watch went away.
                await cluster.WaitForLeaderAsync();
                var victim = (i - 8) / 10;
                await cluster.StopMemberAsync(victim);
                revisions.Add((await client.PutAsync($"wr/{i}", "v")).Revision);
                await cluster.StartMemberAsync(victim);
                continue;
            }
            revisions.Add((await client.PutAsync($"wr/{i}", "v")).Revision);
        }
        CollectionAssert.AreEqual(revisions, (await watched).Select(e => e.Kv.ModRevision).ToList());
    }
}
