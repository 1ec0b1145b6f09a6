using CurpStore.Rpc;

namespace CurpStore.Client.Tests;

/// <summary>KV round trips through the client's own proposer against a 3-member in-process cluster.</summary>
[TestClass]
public sealed class KvTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static InProcessCluster cluster = null!;
    private static CurpClient client = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        cluster = await InProcessCluster.StartAsync();
        client = await CurpClient.ConnectAsync(cluster.Endpoints, new CurpClientOptions { DefaultTimeout = Timeout });
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        await client.DisposeAsync();
        await cluster.DisposeAsync();
    }

    [TestMethod]
    public async Task PutGetDelete_RoundTrip_WithExactRevisions()
    {
        var first = await client.PutAsync("rt/a", "1");
        var second = await client.PutAsync("rt/a", "2", new PutOptions { PrevKv = true });
        Assert.AreEqual(first.Revision + 1, second.Revision, "nothing else writes: each put takes the next revision");
        Assert.IsNotNull(second.PrevKv);
        Assert.AreEqual("1", second.PrevKv.ValueString);
        Assert.AreEqual(first.Revision, second.PrevKv.ModRevision);

        var got = await client.GetAsync("rt/a");
        Assert.AreEqual(second.Revision, got.Revision);
        var kv = got.Kvs.Single();
        Assert.AreEqual("rt/a", kv.KeyString);
        Assert.AreEqual("2", kv.ValueString);
        Assert.AreEqual(first.Revision, kv.CreateRevision);
        Assert.AreEqual(second.Revision, kv.ModRevision);
        Assert.AreEqual(2, kv.Version);
        Assert.AreEqual(0, kv.Lease);

        var old = await client.GetAsync("rt/a", new GetOptions { Revision = first.Revision });
        Assert.AreEqual("1", old.Kvs.Single().ValueString, "a read at a past revision sees the value of then");

        var deleted = await client.DeleteAsync("rt/a", new DeleteOptions { PrevKv = true });
        Assert.AreEqual(1, deleted.Deleted);
        Assert.AreEqual(second.Revision + 1, deleted.Revision);
        Assert.AreEqual("2", deleted.PrevKvs.Single().ValueString);
        var gone = await client.GetAsync("rt/a");
        Assert.AreEqual(0, gone.Kvs.Count);
        Assert.AreEqual(0, gone.Count);
        Assert.AreEqual(deleted.Revision, gone.Revision);
    }
}
