using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary><see cref="CallLimit"/>: calls of the bounded methods beyond the bound wait for a place in a bounded room, or
/// are refused, before they are read.</summary>
[TestClass]
public sealed class CallLimitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly GrpcStatus Busy = new(GrpcStatusCode.ResourceExhausted, "test: too many calls");

    [TestMethod]
    public async Task CallsBeyondTheBound_AreRefusedWithoutRunningTheHandler_AndPlacesComeBackWhenCallsEnd()
    {
        var limit = new CallLimit(2, maxWaiting: 0, TimeSpan.Zero, [TestMethods.Echo.FullName], Busy);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlersStarted = 0;
        var twoStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestHost host = await TestHost.StartAsync(
            server => server
                .AddUnaryMethod(TestMethods.Echo, async (request, _) =>
                {
                    if (Interlocked.Increment(ref handlersStarted) == 2)
                    {
                        twoStarted.TrySetResult();
                    }
                    await release.Task;
                    return request;
                })
                .AddUnaryMethod(TestMethods.EchoBytes, (request, _) => Task.FromResult(request)),
            new GrpcServerOptions { CallLimit = limit });

        Task<StringValue> first = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "1" });
        Task<StringValue> second = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "2" });
        await twoStarted.Task.WaitAsync(Limit);

        RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(
            () => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "3" }).WaitAsync(Limit));
        Assert.AreEqual(Busy.StatusCode, refused.StatusCode);
        Assert.AreEqual(Busy.Detail, refused.Detail);
        Assert.AreEqual(2, Volatile.Read(ref handlersStarted), "the refused call's handler must not run");
        Assert.AreEqual(1, limit.Refused);
        Assert.AreEqual(2, limit.InFlight);

        // Methods outside the limit are not bounded by it.
        BytesValue unbounded = await host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue { Value = ByteString.CopyFromUtf8("x") }).WaitAsync(Limit);
        Assert.AreEqual("x", unbounded.Value.ToStringUtf8());

        release.SetResult();
        Assert.AreEqual("1", (await first.WaitAsync(Limit)).Value);
        Assert.AreEqual("2", (await second.WaitAsync(Limit)).Value);
        StringValue later = await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "4" }).WaitAsync(Limit);
        Assert.AreEqual("4", later.Value);
        Assert.AreEqual(1, limit.Refused);
    }

    [TestMethod]
    public async Task ThousandsOfRefusedCalls_WithBodiesLargerThanAFrame_LeaveTheConnectionWorking()
    {
        // Refused calls are answered before their request is decoded; the connection, shared with the admitted call,
        // must carry on under a flood of them.
        var limit = new CallLimit(1, maxWaiting: 0, TimeSpan.Zero, [TestMethods.EchoBytes.FullName], Busy);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.EchoBytes, async (request, _) =>
        {
            started.TrySetResult();
            await release.Task;
            return request;
        }), new GrpcServerOptions { CallLimit = limit });

        var admittedBody = ByteString.CopyFrom(new byte[100]);
        Task<BytesValue> admitted = host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue { Value = admittedBody });
        await started.Task.WaitAsync(Limit);

        const int refusedCalls = 2_000;
        var largeBody = new BytesValue { Value = ByteString.CopyFrom(new byte[40_000]) }; // more than one 16 KiB DATA frame
        var outcomes = await Task.WhenAll(Enumerable.Range(0, refusedCalls).Select(async _ =>
        {
            try
            {
                await host.Channel.UnaryAsync(TestMethods.EchoBytes, largeBody).WaitAsync(Limit);
                return "admitted";
            }
            catch (RpcException e)
            {
                return $"{e.StatusCode}: {e.Detail}";
            }
        }));

        var byOutcome = outcomes.GroupBy(o => o).ToDictionary(g => g.Key, g => g.Count());
        Assert.AreEqual(refusedCalls, byOutcome.GetValueOrDefault($"{Busy.StatusCode}: {Busy.Detail}"),
            string.Join("; ", byOutcome.Select(o => $"{o.Value} x {o.Key}")));
        Assert.AreEqual(refusedCalls, limit.Refused);

        release.SetResult();
        Assert.AreEqual(admittedBody, (await admitted.WaitAsync(Limit)).Value);
    }

    [TestMethod]
    public async Task CallsBeyondTheBound_WaitInArrivalOrder_AndOnlyAFullWaitingRoomRefusesAtOnce()
    {
        var limit = new CallLimit(1, maxWaiting: 2, Limit, [TestMethods.Echo.FullName], Busy);
        var (host, release, order) = await StartHeldEchoAsync(limit);
        await using (host)
        {
            Task<StringValue> first = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "1" });
            await WaitUntilAsync(() => limit.InFlight == 1);
            Task<StringValue> second = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "2" });
            await WaitUntilAsync(() => limit.Waiting == 1);
            Task<StringValue> third = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "3" });
            await WaitUntilAsync(() => limit.Waiting == 2);

            RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(
                () => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "4" }).WaitAsync(Limit));
            Assert.AreEqual(Busy.StatusCode, refused.StatusCode);
            Assert.AreEqual(1, limit.Refused);
            Assert.IsFalse(second.IsCompleted || third.IsCompleted, "waiting calls are not answered while no place is free");

            release.SetResult();
            Assert.AreEqual("1", (await first.WaitAsync(Limit)).Value);
            Assert.AreEqual("2", (await second.WaitAsync(Limit)).Value);
            Assert.AreEqual("3", (await third.WaitAsync(Limit)).Value);
            CollectionAssert.AreEqual(new[] { "1", "2", "3" }, order.ToArray(), "handlers run in arrival order");
            Assert.AreEqual(0, limit.Waiting);
            Assert.AreEqual(1, limit.Refused);
        }
    }

    [TestMethod]
    public async Task AWaitingCall_IsRefusedOnceItsWaitIsOver_WithoutRunningItsHandler()
    {
        var limit = new CallLimit(1, maxWaiting: 8, TimeSpan.FromMilliseconds(300), [TestMethods.Echo.FullName], Busy);
        var (host, release, order) = await StartHeldEchoAsync(limit);
        await using (host)
        {
            Task<StringValue> first = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "1" });
            await WaitUntilAsync(() => limit.InFlight == 1);

            RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(
                () => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "2" }).WaitAsync(Limit));
            Assert.AreEqual(Busy.StatusCode, refused.StatusCode);
            Assert.AreEqual(Busy.Detail, refused.Detail);
            Assert.AreEqual(1, limit.Refused);
            Assert.AreEqual(0, limit.Waiting);

            release.SetResult();
            await first.WaitAsync(Limit);
            CollectionAssert.AreEqual(new[] { "1" }, order.ToArray(), "the refused call's handler must not run");
        }
    }

    [TestMethod]
    public async Task AWaitingCall_WhoseDeadlineComesFirst_EndsWithDeadlineExceeded_AndOneTheClientCancels_LeavesTheRoom()
    {
        var limit = new CallLimit(1, maxWaiting: 8, Limit, [TestMethods.Echo.FullName], Busy);
        var (host, release, order) = await StartHeldEchoAsync(limit);
        await using (host)
        {
            Task<StringValue> first = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "1" });
            await WaitUntilAsync(() => limit.InFlight == 1);

            RpcException late = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(
                TestMethods.Echo, new StringValue { Value = "2" }, new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(500))).WaitAsync(Limit));
            Assert.AreEqual(GrpcStatusCode.DeadlineExceeded, late.StatusCode);
            await WaitUntilAsync(() => limit.Waiting == 0);

            using var cancel = new CancellationTokenSource();
            Task<StringValue> cancelled = host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "3" }, new CallOptions(CancellationToken: cancel.Token));
            await WaitUntilAsync(() => limit.Waiting == 1);
            await cancel.CancelAsync();
            await Assert.ThrowsAsync<Exception>(() => cancelled.WaitAsync(Limit));
            await WaitUntilAsync(() => limit.Waiting == 0);

            release.SetResult();
            await first.WaitAsync(Limit);
            Assert.AreEqual("4", (await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "4" }).WaitAsync(Limit)).Value);
            CollectionAssert.AreEqual(new[] { "1", "4" }, order.ToArray(), "neither the late nor the cancelled call ran");
            Assert.AreEqual(0, limit.Refused, "a deadline or a cancellation is not a refusal");
        }
    }

    /// <summary>A server whose Echo handler records the order calls start in, then waits for the first release.</summary>
    private static async Task<(TestHost Host, TaskCompletionSource Release, System.Collections.Concurrent.ConcurrentQueue<string> Order)> StartHeldEchoAsync(CallLimit limit)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, async (request, _) =>
        {
            order.Enqueue(request.Value);
            await release.Task;
            return request;
        }), new GrpcServerOptions { CallLimit = limit });
        return (host, release, order);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Limit);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
