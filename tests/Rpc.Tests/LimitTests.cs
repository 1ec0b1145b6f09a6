using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>Message size limits, answered with RESOURCE_EXHAUSTED in grpc-go's words.</summary>
[TestClass]
public sealed class LimitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task ServerReceiveLimit_RefusesALargerRequest()
    {
        bool called = false;
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.EchoBytes, (request, _) =>
            {
                called = true;
                return Task.FromResult(request);
            }),
            new GrpcServerOptions { MaxReceiveMessageSize = 1024 });
        var request = new BytesValue { Value = ByteString.CopyFrom(new byte[2000]) };

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(TestMethods.EchoBytes, request).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        Assert.AreEqual($"grpc: received message larger than max ({request.CalculateSize()} vs. 1024)", error.Detail);
        Assert.IsFalse(called);
    }

    [TestMethod]
    public async Task ServerReceiveLimit_AppliesToEachMessageOfAStream()
    {
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddClientStreamingMethod(TestMethods.Sum, async (requests, _) =>
            {
                long count = 0;
                await foreach (Int64Value unused in requests)
                {
                    count++;
                }

                return new Int64Value { Value = count };
            }),
            new GrpcServerOptions { MaxReceiveMessageSize = 5 });

        using AsyncClientStreamingCall<Int64Value, Int64Value> call = host.Channel.ClientStreaming(TestMethods.Sum);
        await call.RequestStream.WriteAsync(new Int64Value { Value = 1 }).WaitAsync(Limit); // 2 bytes
        try
        {
            await call.RequestStream.WriteAsync(new Int64Value { Value = long.MaxValue }).WaitAsync(Limit); // 10 bytes
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may have ended the call before the write finished; its status comes with the response.
        }

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        Assert.AreEqual("grpc: received message larger than max (10 vs. 5)", error.Detail);
    }

    [TestMethod]
    public async Task ClientReceiveLimit_RefusesALargerResponse()
    {
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.EchoBytes, (_, _) => Task.FromResult(new BytesValue { Value = ByteString.CopyFrom(new byte[5000]) })),
            channelOptions: new GrpcChannelOptions { MaxReceiveMessageSize = 4096 });

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue()).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, error.StatusCode);
        StringAssert.StartsWith(error.Detail, "grpc: received message larger than max (");
    }

    [TestMethod]
    public async Task SendLimits_FailBeforeSending()
    {
        int calls = 0;
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.EchoBytes, (request, _) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(new BytesValue { Value = ByteString.CopyFrom(new byte[3000]) });
            }),
            new GrpcServerOptions { MaxSendMessageSize = 2048 },
            new GrpcChannelOptions { MaxSendMessageSize = 2048 });

        RpcException clientSide = await Assert.ThrowsExactlyAsync<RpcException>(
            () => host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue { Value = ByteString.CopyFrom(new byte[3000]) }).WaitAsync(Limit));
        RpcException serverSide = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue()).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, clientSide.StatusCode);
        StringAssert.StartsWith(clientSide.Detail, "grpc: trying to send message larger than max (");
        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, serverSide.StatusCode);
        StringAssert.StartsWith(serverSide.Detail, "grpc: trying to send message larger than max (");
        Assert.AreEqual(1, calls);
    }
    [TestMethod]
    public async Task ChannelCallLimit_FailsTheCallBeyondIt_AndFreesSlotsWhenCallsEnd()
    {
        await using TestHost host = await TestHost.StartAsync(
            server => server
                .AddServerStreamingMethod(TestMethods.Count, (_, _, context) => Task.Delay(Timeout.Infinite, context.CancellationToken))
                .AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)),
            channelOptions: new GrpcChannelOptions { MaxConcurrentCalls = 2 });

        AsyncServerStreamingCall<Int64Value> first = host.Channel.ServerStreaming(TestMethods.Count, new Int64Value());
        using AsyncServerStreamingCall<Int64Value> second = host.Channel.ServerStreaming(TestMethods.Count, new Int64Value());
        RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue()).WaitAsync(Limit));
        first.Dispose();
        StringValue accepted = await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "ok" }).WaitAsync(Limit);

        Assert.AreEqual(GrpcStatusCode.ResourceExhausted, refused.StatusCode);
        StringAssert.Contains(refused.Detail, "MaxConcurrentCalls");
        Assert.AreEqual("ok", accepted.Value);
    }
}
