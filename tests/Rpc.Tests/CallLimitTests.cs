using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary><see cref="CallLimit"/>: calls of the bounded methods beyond the bound are refused before they are read.</summary>
[TestClass]
public sealed class CallLimitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly GrpcStatus Busy = new(GrpcStatusCode.ResourceExhausted, "test: too many calls");

    [TestMethod]
    public async Task CallsBeyondTheBound_AreRefusedWithoutRunningTheHandler_AndPlacesComeBackWhenCallsEnd()
    {
        var limit = new CallLimit(2, [TestMethods.Echo.FullName], Busy);
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
        var limit = new CallLimit(1, [TestMethods.EchoBytes.FullName], Busy);
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
}
