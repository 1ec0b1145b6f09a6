using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Google.Protobuf;
using ElectionPb = CurpStore.Rpc.Etcd.V3ElectionPb;
using LockPb = CurpStore.Rpc.Etcd.V3LockPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.LockElection;

/// <summary>
/// etcd's Lock and Election services on one in-process member, through the project's gRPC client. Each test uses a
/// lock or election name of its own and leases it granted itself. Waits are bounded by call deadlines that only turn a
/// hang into a failure; nothing asserts on timing.
/// </summary>
[TestClass]
public sealed class LockElectionServiceTests
{
    /// <summary>The member's shared watch buffer is tiny, so that an observer can be left behind by one txn.</summary>
    private const int HubEvents = 4;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private static InProcessMembers? cluster;

    private static GrpcChannel Channel => cluster!.Channels[0];

    private static CallOptions Options => new(Deadline: DateTime.UtcNow + CallTimeout);

    [ClassInitialize]
    public static async Task StartMember(TestContext context) =>
        cluster = await InProcessMembers.StartAsync(1, options => options with { Watch = options.Watch with { EventBufferMaxEvents = HubEvents } });

    [ClassCleanup]
    public static async Task StopMember()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task Lock_SecondLockerWaitsUntilTheFirstUnlocks_ThenHoldsItsOwnKey()
    {
        var (first, second) = (await GrantAsync(60), await GrantAsync(60));
        var held = await LockAsync("lk/unlock", first);
        Assert.AreEqual($"lk/unlock/{first:x}", Text(held.Key), "the owner key is name/lease-in-hex");
        Assert.AreEqual(cluster!.Members[0].MemberId, held.Header.MemberId);

        var waiting = LockAsync("lk/unlock", second);
        await WaitForKeysAsync("lk/unlock/", 2);
        Assert.IsFalse(waiting.IsCompleted, "the second locker got the lock while the first holds it");

        var unlocked = await Channel.UnaryAsync(LockMethods.Unlock, new LockPb.UnlockRequest { Key = held.Key }, Options);
        var acquired = await waiting;
        Assert.AreEqual($"lk/unlock/{second:x}", Text(acquired.Key));
        Assert.IsTrue(acquired.Header.Revision >= unlocked.Header.Revision, "the lock was answered before the unlock it waited for");
        CollectionAssert.AreEqual(new[] { $"lk/unlock/{second:x}" }, await KeysAsync("lk/unlock/"));
    }

    [TestMethod]
    public async Task Lock_WaiterAcquiresWhenTheHoldersLeaseIsRevoked()
    {
        var (first, second) = (await GrantAsync(60), await GrantAsync(60));
        await LockAsync("lk/revoke", first);
        var waiting = LockAsync("lk/revoke", second);
        await WaitForKeysAsync("lk/revoke/", 2);
        Assert.IsFalse(waiting.IsCompleted, "the second locker got the lock while the first holds it");

        await Channel.UnaryAsync(LeaseMethods.LeaseRevoke, new Pb.LeaseRevokeRequest { ID = first }, Options);
        Assert.AreEqual($"lk/revoke/{second:x}", Text((await waiting).Key));
    }

    [TestMethod]
    public async Task Lock_WaiterAcquiresWhenTheHoldersLeaseExpires()
    {
        var (first, second) = (await GrantAsync(3), await GrantAsync(60));
        await LockAsync("lk/expire", first);
        var waiting = LockAsync("lk/expire", second);
        Assert.AreEqual($"lk/expire/{second:x}", Text((await waiting).Key), "the waiter did not get the lock after the holder's lease expired");
        CollectionAssert.AreEqual(new[] { $"lk/expire/{second:x}" }, await KeysAsync("lk/expire/"));
    }

    [TestMethod]
    public async Task Lock_AgainWithTheHoldersLease_ReturnsTheSameKeyAtOnce()
    {
        var lease = await GrantAsync(60);
        var held = await LockAsync("lk/again", lease);
        var again = await LockAsync("lk/again", lease);
        Assert.AreEqual(Text(held.Key), Text(again.Key));
        CollectionAssert.AreEqual(new[] { $"lk/again/{lease:x}" }, await KeysAsync("lk/again/"));
    }

    [TestMethod]
    public async Task Lock_UnknownLease_FailsAsEtcd()
    {
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => LockAsync("lk/unknown", 0x7777_1234));
        Assert.AreEqual(GrpcStatusCode.Unknown, e.StatusCode, "etcd's in-process client turns the store's error into a plain one");
        Assert.AreEqual("etcdserver: requested lease not found", e.Detail);
    }

    [TestMethod]
    public async Task Lock_WaiterWhoseCallEnds_RemovesItsKey()
    {
        var (first, second) = (await GrantAsync(60), await GrantAsync(60));
        await LockAsync("lk/cancel", first);
        using var cancel = new CancellationTokenSource();
        var waiting = Channel.UnaryAsync(LockMethods.Lock, LockRequest("lk/cancel", second), new CallOptions(Deadline: DateTime.UtcNow + CallTimeout, CancellationToken: cancel.Token));
        await WaitForKeysAsync("lk/cancel/", 2);
        await cancel.CancelAsync();
        var e = await Assert.ThrowsExactlyAsync<RpcException>(() => waiting);
        Assert.AreEqual(GrpcStatusCode.Cancelled, e.StatusCode);
        await WaitForKeysAsync("lk/cancel/", 1);
        CollectionAssert.AreEqual(new[] { $"lk/cancel/{first:x}" }, await KeysAsync("lk/cancel/"));
    }

    [TestMethod]
    public async Task Lock_WithoutLease_GrantsASessionLease()
    {
        var held = await LockAsync("lk/nolease", 0);
        var key = Text(held.Key);
        StringAssert.StartsWith(key, "lk/nolease/");
        var lease = Convert.ToInt64(key["lk/nolease/".Length..], 16);
        var ttl = await Channel.UnaryAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = lease }, Options);
        Assert.AreEqual(60L, ttl.GrantedTTL, "etcd's session lease has TTL 60 s");
    }

    [TestMethod]
    public async Task Election_CampaignLeaderProclaimObserveResign_FollowEtcdsRecipe()
    {
        var (a, b) = (await GrantAsync(60), await GrantAsync(60));
        var noLeader = await Assert.ThrowsExactlyAsync<RpcException>(() => LeaderAsync("el/seq"));
        Assert.AreEqual("election: no leader", noLeader.Detail);
        Assert.AreEqual(GrpcStatusCode.Unknown, noLeader.StatusCode);

        var campaignA = await CampaignAsync("el/seq", a, "a1");
        var leaderA = campaignA.Leader;
        Assert.AreEqual($"el/seq/{a:x}", Text(leaderA.Key));
        Assert.AreEqual("el/seq", Text(leaderA.Name));
        Assert.AreEqual(a, leaderA.Lease);
        Assert.AreEqual(campaignA.Header.Revision, leaderA.Rev, "the leader key's rev is its create revision");
        Assert.AreEqual("a1", Text((await LeaderAsync("el/seq")).Kv.Value));

        using var observe = Channel.ServerStreaming(ElectionMethods.Observe, new ElectionPb.LeaderRequest { Name = Bytes("el/seq") }, Options);
        Assert.AreEqual("a1", Text((await NextAsync(observe)).Kv.Value));

        var campaignB = CampaignAsync("el/seq", b, "b1");
        await WaitForKeysAsync("el/seq/", 2);
        Assert.IsFalse(campaignB.IsCompleted, "the second candidate was elected while the first leads");

        var proclaimed = await Channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = leaderA, Value = Bytes("a2") }, Options);
        var proclaimedAgain = await Channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = leaderA, Value = Bytes("a3") }, Options);
        var observed = await NextAsync(observe);
        Assert.AreEqual("a2", Text(observed.Kv.Value), "each proclaimed value is observed, as etcd's watch gives them");
        Assert.AreEqual(proclaimed.Header.Revision, observed.Kv.ModRevision);
        Assert.AreEqual(proclaimed.Header.Revision, observed.Header.Revision);
        observed = await NextAsync(observe);
        Assert.AreEqual("a3", Text(observed.Kv.Value));
        Assert.AreEqual(proclaimedAgain.Header.Revision, observed.Kv.ModRevision);
        var leader = await LeaderAsync("el/seq");
        Assert.AreEqual("a3", Text(leader.Kv.Value));
        Assert.AreEqual(a, leader.Kv.Lease, "proclaim keeps the key's lease");

        var stale = leaderA.Clone();
        stale.Rev++;
        var notLeader = await Assert.ThrowsExactlyAsync<RpcException>(() => Channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = stale, Value = Bytes("x") }, Options));
        Assert.AreEqual("election: not leader", notLeader.Detail);
        var missing = await Assert.ThrowsExactlyAsync<RpcException>(() => Channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest(), Options));
        Assert.AreEqual("\"leader\" field must be provided", missing.Detail);

        await Channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest { Leader = leaderA }, Options);
        var elected = await campaignB;
        Assert.AreEqual($"el/seq/{b:x}", Text(elected.Leader.Key));
        Assert.AreEqual("b1", Text((await NextAsync(observe)).Kv.Value));
        Assert.AreEqual("b1", Text((await LeaderAsync("el/seq")).Kv.Value));

        await Channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest { Leader = elected.Leader }, Options);
        Assert.AreEqual("election: no leader", (await Assert.ThrowsExactlyAsync<RpcException>(() => LeaderAsync("el/seq"))).Detail);
    }

    [TestMethod]
    public async Task Observe_LeftBehindByTheWatchBuffer_ReadsTheLeaderAndGoesOn()
    {
        var lease = await GrantAsync(60);
        var leaderKey = (await CampaignAsync("el/behind", lease, "v1")).Leader;
        using var observe = Channel.ServerStreaming(ElectionMethods.Observe, new ElectionPb.LeaderRequest { Name = Bytes("el/behind") }, Options);
        Assert.AreEqual("v1", Text((await NextAsync(observe)).Kv.Value));

        // One revision with more events than the buffer holds: it is never buffered, and the observer must read the store.
        await Kv.PutAllAsync(Channel, [.. Enumerable.Range(0, HubEvents + 1).Select(i => ($"el-other/{i}", "x"))]);
        var proclaimed = await Channel.UnaryAsync(ElectionMethods.Proclaim, new ElectionPb.ProclaimRequest { Leader = leaderKey, Value = Bytes("v2") }, Options);
        var observed = await NextAsync(observe);
        Assert.AreEqual("v2", Text(observed.Kv.Value));
        Assert.AreEqual(proclaimed.Header.Revision, observed.Kv.ModRevision);

        await Channel.UnaryAsync(ElectionMethods.Resign, new ElectionPb.ResignRequest { Leader = leaderKey }, Options);
        var next = await CampaignAsync("el/behind", await GrantAsync(60), "w1");
        var nextObserved = await NextAsync(observe);
        Assert.AreEqual("w1", Text(nextObserved.Kv.Value), "the observer did not move to the next leader");
        Assert.AreEqual(Text(next.Leader.Key), Text(nextObserved.Kv.Key));
    }

    [TestMethod]
    public async Task Campaign_CandidateWhoseCallEnds_Withdraws()
    {
        var (a, b) = (await GrantAsync(60), await GrantAsync(60));
        await CampaignAsync("el/cancel", a, "a");
        using var cancel = new CancellationTokenSource();
        var request = new ElectionPb.CampaignRequest { Name = Bytes("el/cancel"), Lease = b, Value = Bytes("b") };
        var waiting = Channel.UnaryAsync(ElectionMethods.Campaign, request, new CallOptions(Deadline: DateTime.UtcNow + CallTimeout, CancellationToken: cancel.Token));
        await WaitForKeysAsync("el/cancel/", 2);
        await cancel.CancelAsync();
        Assert.AreEqual(GrpcStatusCode.Cancelled, (await Assert.ThrowsExactlyAsync<RpcException>(() => waiting)).StatusCode);
        await WaitForKeysAsync("el/cancel/", 1);
        CollectionAssert.AreEqual(new[] { $"el/cancel/{a:x}" }, await KeysAsync("el/cancel/"));
    }

    [TestMethod]
    public async Task Campaign_AgainWithANewValue_ProclaimsIt()
    {
        var lease = await GrantAsync(60);
        var first = await CampaignAsync("el/again", lease, "v1");
        var again = await CampaignAsync("el/again", lease, "v2");
        Assert.AreEqual(first.Leader.Rev, again.Leader.Rev, "the same candidate key");
        Assert.AreEqual("v2", Text((await LeaderAsync("el/again")).Kv.Value));
    }

    private static async Task<long> GrantAsync(long ttlSeconds) =>
        (await Channel.UnaryAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = ttlSeconds }, Options)).ID;

    private static LockPb.LockRequest LockRequest(string name, long lease) => new() { Name = Bytes(name), Lease = lease };

    private static Task<LockPb.LockResponse> LockAsync(string name, long lease) => Channel.UnaryAsync(LockMethods.Lock, LockRequest(name, lease), Options);

    private static Task<ElectionPb.CampaignResponse> CampaignAsync(string name, long lease, string value) =>
        Channel.UnaryAsync(ElectionMethods.Campaign, new ElectionPb.CampaignRequest { Name = Bytes(name), Lease = lease, Value = Bytes(value) }, Options);

    private static Task<ElectionPb.LeaderResponse> LeaderAsync(string name) =>
        Channel.UnaryAsync(ElectionMethods.Leader, new ElectionPb.LeaderRequest { Name = Bytes(name) }, Options);

    private static async Task<ElectionPb.LeaderResponse> NextAsync(AsyncServerStreamingCall<ElectionPb.LeaderResponse> call)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        Assert.IsTrue(await call.ResponseStream.MoveNext(timeout.Token), "the observe stream ended");
        return call.ResponseStream.Current;
    }

    private static async Task<string[]> KeysAsync(string prefix)
    {
        var range = new Pb.RangeRequest { Key = Bytes(prefix), RangeEnd = ByteString.CopyFrom(Curp.KeyRange.PrefixEnd(Encoding.UTF8.GetBytes(prefix))) };
        return [.. (await Channel.UnaryAsync(KVMethods.Range, range, Options)).Kvs.Select(kv => Text(kv.Key))];
    }

    /// <summary>Waits until exactly <paramref name="count"/> keys are under <paramref name="prefix"/> (a waiter has
    /// put its key, or a cancelled one removed it).</summary>
    private static async Task WaitForKeysAsync(string prefix, int count)
    {
        var deadline = DateTime.UtcNow + CallTimeout;
        while ((await KeysAsync(prefix)).Length != count)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{prefix} never had {count} keys: {string.Join(", ", await KeysAsync(prefix))}");
            await Task.Delay(20);
        }
    }

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);
}
