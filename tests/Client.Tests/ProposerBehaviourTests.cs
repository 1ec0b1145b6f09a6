using CurpStore.Curp;
using CurpStore.Rpc;

namespace CurpStore.Client.Tests;

/// <summary>What the client's proposer promises around lost answers, cancellation, deadlines, bounds and disposal.
/// Answers are lost on purpose by dropping the members' messages before the proposer sees them.</summary>
[TestClass]
public sealed class ProposerBehaviourTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static InProcessCluster Cluster => SharedCluster.Cluster;

    /// <summary>A switch that loses every answer while it is on, and counts the leader's answers it lost.</summary>
    private sealed class LostAnswers
    {
        private volatile bool losing;
        private int leaderAnswersLost;

        public int LeaderAnswersLost => Volatile.Read(ref leaderAnswersLost);

        public bool Losing
        {
            get => losing;
            set => losing = value;
        }

        public bool Drop(Message message)
        {
            if (!losing || message is RegisterSessionResponse)
            {
                return false;
            }
            if (message is ProposeResponse { Outcome: ProposeOutcome.LeaderSpeculated or ProposeOutcome.LeaderOrdered } or SyncedResponse)
            {
                Interlocked.Increment(ref leaderAnswersLost);
            }
            return true;
        }
    }

    /// <summary>A client whose members' answers <paramref name="lost"/> can lose, once its session is open.</summary>
    private static async Task<CurpClient> ConnectAsync(LostAnswers lost, int maxInflight = 1_024, TimeSpan? sessionRefresh = null)
    {
        var client = await CurpClient.ConnectAsync(Cluster.Endpoints, new CurpClientOptions
        {
            DefaultTimeout = Timeout,
            RetryInterval = TimeSpan.FromMilliseconds(200),
            MaxInflight = maxInflight,
            SessionRefreshAfterIdle = sessionRefresh ?? TimeSpan.FromMinutes(2),
            DropIncoming = lost.Drop,
        });
        await WaitForSessionAsync(client);
        return client;
    }

    private static async Task WaitForSessionAsync(CurpClient client)
    {
        for (var attempt = 0; attempt < 200 && client.SessionId == 0; attempt++)
        {
            await Task.Delay(25);
        }
        Assert.AreNotEqual(0UL, client.SessionId, "no session within 5 s");
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var attempt = 0; attempt < 400; attempt++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(25);
        }
        Assert.Fail($"{what} did not happen within 10 s");
    }

    [TestMethod]
    public async Task ALostAnswer_IsRetriedWithTheSameId_AndTheWriteIsAppliedOnce()
    {
        var lost = new LostAnswers();
        await using var client = await ConnectAsync(lost);
        var before = (await client.GetAsync("once/k")).Revision;

        lost.Losing = true;
        var put = client.PutAsync("once/k", "v");
        await WaitUntilAsync(() => lost.LeaderAnswersLost >= 3, "three attempts answered by the leader");
        lost.Losing = false;
        var result = await put;

        var stored = (await client.GetAsync("once/k")).Kvs.Single();
        Assert.AreEqual(1, stored.Version, "applied once although sent at least three times");
        Assert.AreEqual(before + 1, stored.ModRevision, "one revision for the write");
        Assert.AreEqual(result.Revision, stored.ModRevision, "the retry is answered with the first execution's result");
        Assert.AreEqual(CommitPath.Slow, result.CommitPath, "a retry of an applied write is answered from the session table");
    }

    [TestMethod]
    public async Task ACancelledCall_EndsWithOperationCanceled_ButItsWriteMayStillBeApplied()
    {
        var lost = new LostAnswers();
        await using var client = await ConnectAsync(lost);

        lost.Losing = true;
        using var cancel = new CancellationTokenSource();
        var put = client.PutAsync("cancel/sent", "v", cancellationToken: cancel.Token);
        await WaitUntilAsync(() => lost.LeaderAnswersLost >= 1, "the leader's answer");
        await cancel.CancelAsync();
        await Assert.ThrowsExactlyAsync<OperationCanceledException>(() => put);
        lost.Losing = false;
        // As with etcd, cancelling stops the wait, not the write: it was sent, and it is applied.
        await WaitUntilAsync(async () => (await client.GetAsync("cancel/sent")).Kvs.Count == 1, "the cancelled write's apply");
        Assert.AreEqual("v", (await client.GetAsync("cancel/sent")).Kvs.Single().ValueString);

        // A call cancelled before it starts is never sent.
        await Assert.ThrowsExactlyAsync<OperationCanceledException>(() => client.PutAsync("cancel/never", "v", cancellationToken: cancel.Token));
        await client.PutAsync("cancel/barrier", "b");
        Assert.AreEqual(0, (await client.GetAsync("cancel/never")).Kvs.Count);
    }

    [TestMethod]
    public async Task ATimeout_EndsTheCallWithDeadlineExceeded()
    {
        var lost = new LostAnswers();
        await using var client = await ConnectAsync(lost);
        lost.Losing = true;
        await KvTests.AssertEtcdErrorAsync(
            () => client.PutAsync("deadline/k", "v", timeout: TimeSpan.FromMilliseconds(300)), GrpcStatusCode.DeadlineExceeded, "context deadline exceeded");
        await KvTests.AssertEtcdErrorAsync(
            () => client.GetAsync("deadline/k", timeout: TimeSpan.FromMilliseconds(300)), GrpcStatusCode.DeadlineExceeded, "context deadline exceeded");
    }

    [TestMethod]
    public async Task CallsBeyondTheInflightBound_AreRefusedAtOnce()
    {
        var lost = new LostAnswers();
        await using var client = await ConnectAsync(lost, maxInflight: 2);
        lost.Losing = true;
        var first = client.PutAsync("bound/1", "v");
        var second = client.PutAsync("bound/2", "v");
        await KvTests.AssertEtcdErrorAsync(() => client.PutAsync("bound/3", "v"), GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests");
        lost.Losing = false;
        await Task.WhenAll(first, second);
        Assert.AreEqual(0, (await client.GetAsync("bound/3")).Kvs.Count, "the refused call was never sent");
    }

    [TestMethod]
    public async Task Dispose_EndsWaitingCallsWithClientClosing()
    {
        var lost = new LostAnswers();
        var client = await ConnectAsync(lost);
        lost.Losing = true;
        var put = client.PutAsync("dispose/k", "v");
        await WaitUntilAsync(() => lost.LeaderAnswersLost >= 1, "the leader's answer");
        await client.DisposeAsync();
        await KvTests.AssertEtcdErrorAsync(() => put, GrpcStatusCode.Cancelled, "grpc: the client connection is closing");
        await KvTests.AssertEtcdErrorAsync(() => client.PutAsync("dispose/after", "v"), GrpcStatusCode.Cancelled, "grpc: the client connection is closing");
    }

    [TestMethod]
    public async Task AnIdleSession_IsReplacedBeforeTheNextWrite()
    {
        var lost = new LostAnswers();
        await using var client = await ConnectAsync(lost, sessionRefresh: TimeSpan.FromMilliseconds(200));
        await client.PutAsync("idle/k", "1");
        var first = client.SessionId;
        await Task.Delay(TimeSpan.FromSeconds(1)); // well past the 200 ms idle bound, even if ticks run late
        var second = await client.PutAsync("idle/k", "2");
        Assert.AreNotEqual(first, client.SessionId, "a new session after the idle period");
        Assert.AreEqual(2, (await client.GetAsync("idle/k")).Kvs.Single().Version);
        Assert.AreEqual(second.Revision, (await client.GetAsync("idle/k")).Kvs.Single().ModRevision);
    }
}
