using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>Deadlines (sent as grpc-timeout, enforced on both sides) and cancellation in both directions.</summary>
[TestClass]
public sealed class DeadlineAndCancellationTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task Deadline_CancelsTheHandler_AndEndsTheCallWithDeadlineExceeded()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTime serverDeadline = default;
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, async (request, context) =>
        {
            serverDeadline = context.Deadline;
            using CancellationTokenRegistration registration = context.CancellationToken.Register(handlerCancelled.SetResult);
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return request;
        }));
        DateTime deadline = DateTime.UtcNow.AddMilliseconds(1000);

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(
            () => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue(), new CallOptions(Deadline: deadline)).WaitAsync(Limit));
        await handlerCancelled.Task.WaitAsync(Limit);

        Assert.AreEqual(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
        Assert.IsTrue(Math.Abs((serverDeadline - deadline).TotalMilliseconds) < 500, $"server deadline {serverDeadline:O} vs client {deadline:O}");
    }

    [TestMethod]
    public async Task ServerEnforcesGrpcTimeout_EvenWhenTheHandlerIgnoresItsToken()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, async (request, _) =>
        {
            await release.Task; // ignores cancellation on purpose
            return request;
        }));
        using HttpClient raw = host.CreateRawClient(); // no client-side deadline: only the server's timer can answer
        HttpRequestMessage request = StatusAndMetadataTests.GrpcRequest(TestMethods.Echo.FullName, StatusAndMetadataTests.Frame(new StringValue()));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        var clock = Stopwatch.StartNew();

        using HttpResponseMessage response = await raw.SendAsync(request).WaitAsync(Limit);
        await response.Content.ReadAsByteArrayAsync().WaitAsync(Limit);
        clock.Stop();
        release.SetResult();

        string status = response.Headers.TryGetValues("grpc-status", out IEnumerable<string>? inHeaders)
            ? inHeaders.Single()
            : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.AreEqual("4", status);
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [TestMethod]
    public async Task ExpiredDeadline_FailsWithoutCallingTheServer()
    {
        int calls = 0;
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(request);
        }));

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(
            () => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue(), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(-1))).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
        Assert.AreEqual(0, calls);
    }

    [TestMethod]
    public async Task Deadline_EndsAServerStreamInTheMiddle()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddServerStreamingMethod(TestMethods.Count, async (_, stream, context) =>
        {
            for (long i = 0; ; i++)
            {
                await stream.WriteAsync(new Int64Value { Value = i });
                await Task.Delay(50, context.CancellationToken);
            }
        }));

        using AsyncServerStreamingCall<Int64Value> call = host.Channel.ServerStreaming(
            TestMethods.Count, new Int64Value(), new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(400)));
        int received = 0;
        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext().WaitAsync(Limit))
            {
                received++;
            }
        });

        Assert.AreEqual(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
        Assert.IsTrue(received > 0, "messages before the deadline arrive");
    }

    [TestMethod]
    public async Task ClientCancellation_ResetsTheStream_AndCancelsTheHandler()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestHost host = await TestHost.StartAsync(server => server.AddServerStreamingMethod(TestMethods.Count, async (_, stream, context) =>
        {
            using CancellationTokenRegistration registration = context.CancellationToken.Register(handlerCancelled.SetResult);
            await stream.WriteAsync(new Int64Value { Value = 1 });
            firstSent.SetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }));
        using var cancellation = new CancellationTokenSource();

        using AsyncServerStreamingCall<Int64Value> call = host.Channel.ServerStreaming(
            TestMethods.Count, new Int64Value(), new CallOptions(CancellationToken: cancellation.Token));
        Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        await firstSent.Task.WaitAsync(Limit);
        await cancellation.CancelAsync();
        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Limit));
        await handlerCancelled.Task.WaitAsync(Limit);

        Assert.AreEqual(GrpcStatusCode.Cancelled, error.StatusCode);
    }

    [TestMethod]
    public async Task DisposingACall_CancelsTheHandlerOfAClientStream()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestHost host = await TestHost.StartAsync(server => server.AddClientStreamingMethod(TestMethods.Sum, async (requests, context) =>
        {
            try
            {
                await requests.MoveNext();
                firstRead.SetResult();
                await requests.MoveNext(); // waits for a message that never comes
            }
            catch (OperationCanceledException)
            {
                handlerCancelled.SetResult();
                throw;
            }

            return new Int64Value();
        }));

        AsyncClientStreamingCall<Int64Value, Int64Value> call = host.Channel.ClientStreaming(TestMethods.Sum);
        await call.RequestStream.WriteAsync(new Int64Value { Value = 1 }).WaitAsync(Limit);
        await firstRead.Task.WaitAsync(Limit);
        call.Dispose();
        await handlerCancelled.Task.WaitAsync(Limit);

        Assert.AreEqual(GrpcStatusCode.Cancelled, call.GetStatus().StatusCode);
    }

    [TestMethod]
    public async Task ServerSideCancellation_ReachesTheClient_AsUnavailableWhenTheServerStops()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TestHost host = await TestHost.StartAsync(server => server.AddDuplexStreamingMethod(TestMethods.Chat, async (requests, responses, context) =>
        {
            await responses.WriteAsync(new StringValue { Value = "hello" });
            started.SetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }));
        try
        {
            using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
            Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
            await started.Task.WaitAsync(Limit);
            Task stop = host.Server.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Limit));
            await stop.WaitAsync(Limit);

            Assert.AreEqual(GrpcStatusCode.Unavailable, error.StatusCode);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
