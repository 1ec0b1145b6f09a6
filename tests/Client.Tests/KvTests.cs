using CurpStore.Rpc;
using CompareResult = CurpStore.Store.CompareResult;
using SortOrder = CurpStore.Store.SortOrder;

namespace CurpStore.Client.Tests;

/// <summary>KV round trips through the client's own proposer against a 3-member in-process cluster.</summary>
[TestClass]
public sealed class KvTests
{
    private static CurpClient Client => SharedCluster.Client;

    [TestMethod]
    public async Task PutGetDelete_RoundTrip_WithExactRevisions()
    {
        var first = await Client.PutAsync("rt/a", "1");
        var second = await Client.PutAsync("rt/a", "2", new PutOptions { PrevKv = true });
        Assert.AreEqual(first.Revision + 1, second.Revision, "nothing else writes: each put takes the next revision");
        Assert.IsNotNull(second.PrevKv);
        Assert.AreEqual("1", second.PrevKv.ValueString);
        Assert.AreEqual(first.Revision, second.PrevKv.ModRevision);

        var got = await Client.GetAsync("rt/a");
        Assert.AreEqual(second.Revision, got.Revision);
        var kv = got.Kvs.Single();
        Assert.AreEqual("rt/a", kv.KeyString);
        Assert.AreEqual("2", kv.ValueString);
        Assert.AreEqual(first.Revision, kv.CreateRevision);
        Assert.AreEqual(second.Revision, kv.ModRevision);
        Assert.AreEqual(2, kv.Version);
        Assert.AreEqual(0, kv.Lease);

        var old = await Client.GetAsync("rt/a", new GetOptions { Revision = first.Revision });
        Assert.AreEqual("1", old.Kvs.Single().ValueString, "a read at a past revision sees the value of then");

        var deleted = await Client.DeleteAsync("rt/a", new DeleteOptions { PrevKv = true });
        Assert.AreEqual(1, deleted.Deleted);
        Assert.AreEqual(second.Revision + 1, deleted.Revision);
        Assert.AreEqual("2", deleted.PrevKvs.Single().ValueString);
        var gone = await Client.GetAsync("rt/a");
        Assert.AreEqual(0, gone.Kvs.Count);
        Assert.AreEqual(0, gone.Count);
        Assert.AreEqual(deleted.Revision, gone.Revision);
    }

    [TestMethod]
    public async Task Txn_CompareAndSwap_TakesTheRightBranch_WithExactRevisions()
    {
        var created = await Client.TxnAsync(new Txn()
            .If(Compare.Version("txn/k", CompareResult.Equal, 0))
            .Then(Op.Put("txn/k", "v1"), Op.Get("txn/k"))
            .Else(Op.Get("txn/k")));
        Assert.IsTrue(created.Succeeded);
        Assert.AreEqual(2, created.Responses.Count);
        Assert.IsNotNull(created.Responses[0].Put);
        var seen = created.Responses[1].Get!.Kvs.Single();
        Assert.AreEqual("v1", seen.ValueString);
        Assert.AreEqual(created.Revision, seen.ModRevision, "the txn's put has the txn's revision");

        var lost = await Client.TxnAsync(new Txn()
            .If(Compare.Value("txn/k", CompareResult.Equal, "other"))
            .Then(Op.Put("txn/k", "never"))
            .Else(Op.Get("txn/k"), Op.Delete("txn/missing")));
        Assert.IsFalse(lost.Succeeded);
        Assert.AreEqual("v1", lost.Responses[0].Get!.Kvs.Single().ValueString);
        Assert.AreEqual(0, lost.Responses[1].Delete!.Deleted);
        Assert.AreEqual(created.Revision, lost.Revision, "a txn that changes nothing takes no revision");

        var swapped = await Client.TxnAsync(new Txn()
            .If(Compare.ModRevision("txn/k", CompareResult.Equal, created.Revision))
            .Then(Op.Put("txn/k", "v2"), Op.Nested(new Txn().Then(Op.Put("txn/nested", "n")))));
        Assert.IsTrue(swapped.Succeeded);
        Assert.AreEqual(created.Revision + 1, swapped.Revision);
        Assert.IsNotNull(swapped.Responses[1].Txn);
        var nested = await Client.GetAsync("txn/nested");
        Assert.AreEqual(swapped.Revision, nested.Kvs.Single().ModRevision, "nested writes share the outer txn's revision");
        var final = await Client.GetAsync("txn/k");
        Assert.AreEqual("v2", final.Kvs.Single().ValueString);
        Assert.AreEqual(2, final.Kvs.Single().Version);
    }

    [TestMethod]
    public async Task RangeOptions_PrefixLimitCountAndSerializable()
    {
        foreach (var name in new[] { "b", "a", "c" })
        {
            await Client.PutAsync($"range/{name}", name);
        }
        await Client.PutAsync("range0", "outside the prefix");
        var all = await Client.GetAsync("range/", new GetOptions { Prefix = true });
        CollectionAssert.AreEqual(new[] { "range/a", "range/b", "range/c" }, all.Kvs.Select(kv => kv.KeyString).ToArray());
        var limited = await Client.GetAsync("range/", new GetOptions { Prefix = true, Limit = 2, SortOrder = SortOrder.Descend });
        CollectionAssert.AreEqual(new[] { "range/c", "range/b" }, limited.Kvs.Select(kv => kv.KeyString).ToArray());
        Assert.IsTrue(limited.More);
        Assert.AreEqual(3, limited.Count);
        var counted = await Client.GetAsync("range/", new GetOptions { Prefix = true, CountOnly = true });
        Assert.AreEqual(0, counted.Kvs.Count);
        Assert.AreEqual(3, counted.Count);
        var keysOnly = await Client.GetAsync("range/a", new GetOptions { KeysOnly = true });
        Assert.AreEqual(0, keysOnly.Kvs.Single().Value.Length);

        // A serializable read is one member's own copy: it catches up with the write shortly.
        var written = await Client.PutAsync("range/serializable", "s");
        GetResult? local = null;
        for (var attempt = 0; attempt < 100 && local?.Kvs.Count is not 1; attempt++)
        {
            local = await Client.GetAsync("range/serializable", new GetOptions { Serializable = true });
            await Task.Delay(20);
        }
        Assert.AreEqual(written.Revision, local!.Kvs.Single().ModRevision);
    }

    [TestMethod]
    public async Task InvalidRequests_FailWithEtcdsCodeAndMessage()
    {
        await AssertEtcdErrorAsync(() => Client.PutAsync("", "v"), GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided");
        await AssertEtcdErrorAsync(() => Client.GetAsync(""), GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided");
        await AssertEtcdErrorAsync(() => Client.DeleteAsync(""), GrpcStatusCode.InvalidArgument, "etcdserver: key is not provided");
        await AssertEtcdErrorAsync(
            () => Client.PutAsync("err/k", "v", new PutOptions { IgnoreValue = true }), GrpcStatusCode.InvalidArgument, "etcdserver: value is provided");
        await AssertEtcdErrorAsync(
            () => Client.TxnAsync(new Txn().Then(Op.Put("err/dup", "1"), Op.Put("err/dup", "2"))),
            GrpcStatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");
        // Errors only the cluster can find travel back as the store's errors.
        var now = await Client.PutAsync("err/now", "v");
        await AssertEtcdErrorAsync(
            () => Client.GetAsync("err/now", new GetOptions { Revision = now.Revision + 1_000 }),
            GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
        await AssertEtcdErrorAsync(
            () => Client.PutAsync("err/ignored", "", new PutOptions { IgnoreValue = true }), GrpcStatusCode.InvalidArgument, "etcdserver: key not found");
        await AssertEtcdErrorAsync(() => Client.RevokeAsync(0x7777), GrpcStatusCode.NotFound, "etcdserver: requested lease not found");
    }

    internal static async Task AssertEtcdErrorAsync(Func<Task> call, GrpcStatusCode code, string message)
    {
        var error = await Assert.ThrowsExactlyAsync<EtcdException>(call);
        Assert.AreEqual(code, error.StatusCode, error.Message);
        Assert.AreEqual(message, error.Message);
    }
}
