using System.Text;
using CurpStore.Rpc;

namespace CurpStore.Client.Tests;

[TestClass]
public sealed class LeaseTests
{
    private static CurpClient Client => SharedCluster.Client;

    [TestMethod]
    public async Task GrantAttachKeepAliveRevoke_AsEtcdDoes()
    {
        var lease = await Client.GrantAsync(ttlSeconds: 30);
        Assert.AreNotEqual(0, lease.Id);
        Assert.AreEqual(30, lease.TtlSeconds);
        var put = await Client.PutAsync("lease/k", "v", new PutOptions { Lease = lease.Id });
        Assert.AreEqual(lease.Id, (await Client.GetAsync("lease/k")).Kvs.Single().Lease);

        var ttl = await Client.TimeToLiveAsync(lease.Id, keys: true);
        Assert.AreEqual(lease.Id, ttl.Id);
        Assert.AreEqual(30, ttl.GrantedTtlSeconds);
        Assert.IsTrue(ttl.TtlSeconds is > 0 and <= 30, $"TTL {ttl.TtlSeconds}");
        Assert.AreEqual("lease/k", Encoding.UTF8.GetString(ttl.Keys.Single()));

        var renewed = await Client.KeepAliveOnceAsync(lease.Id);
        Assert.AreEqual(lease.Id, renewed.Id);
        Assert.AreEqual(30, renewed.TtlSeconds);

        var revoked = await Client.RevokeAsync(lease.Id);
        Assert.AreEqual(put.Revision + 1, revoked.Revision, "the revoke deletes the attached key in one revision");
        Assert.AreEqual(0, (await Client.GetAsync("lease/k")).Kvs.Count);
        Assert.AreEqual(-1, (await Client.TimeToLiveAsync(lease.Id)).TtlSeconds, "etcd answers an unknown lease with TTL -1");
        await KvTests.AssertEtcdErrorAsync(() => Client.KeepAliveOnceAsync(lease.Id), GrpcStatusCode.NotFound, "etcdserver: requested lease not found");
        await KvTests.AssertEtcdErrorAsync(() => Client.RevokeAsync(lease.Id), GrpcStatusCode.NotFound, "etcdserver: requested lease not found");
        var chosen = await Client.GrantAsync(30, leaseId: 0x1234);
        Assert.AreEqual(0x1234, chosen.Id);
        await KvTests.AssertEtcdErrorAsync(() => Client.GrantAsync(30, leaseId: 0x1234), GrpcStatusCode.FailedPrecondition, "etcdserver: lease already exists");
        await Client.RevokeAsync(chosen.Id); // no lease left to expire under the other tests of the shared cluster
    }

    [TestMethod]
    public async Task KeepAlive_RenewsUntilCancelled_AndEndsWhenTheLeaseIsRevoked()
    {
        var lease = await Client.GrantAsync(ttlSeconds: 3);
        var renewals = 0;
        await foreach (var renewal in Client.KeepAliveAsync(lease.Id))
        {
            Assert.AreEqual(lease.Id, renewal.Id);
            Assert.AreEqual(3, renewal.TtlSeconds);
            if (++renewals == 2)
            {
                break;
            }
        }
        Assert.IsTrue((await Client.TimeToLiveAsync(lease.Id)).TtlSeconds > 0, "still alive after the renewals");

        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Client.KeepAliveAsync(lease.Id, cancel.Token))
            {
                await cancel.CancelAsync();
            }
        });

        var untilRevoked = Task.Run(async () =>
        {
            var seen = 0;
            await foreach (var _ in Client.KeepAliveAsync(lease.Id))
            {
                seen++;
            }
            return seen;
        });
        await Client.RevokeAsync(lease.Id);
        // Without a revoke this sequence never ends: it ending at all is the check.
        await untilRevoked.WaitAsync(ClusterWithClient.CallTimeout);
    }
}
