using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>The four call shapes, end to end between our client and our server over h2c and TLS.</summary>
[TestClass]
public sealed class CallTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task Unary_RoundTripsOneMessage()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(
            TestMethods.Echo, (request, context) => Task.FromResult(new StringValue { Value = $"{request.Value} via {context.Method}" })));

        StringValue response = await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "hello" }).WaitAsync(Limit);

        Assert.AreEqual("hello via /test.Echo/Echo", response.Value);
    }

    [TestMethod]
    public async Task Unary_EmptyMessagesAndLargeMessages_CrossFlowControlWindows()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(
            TestMethods.EchoBytes, (request, _) => Task.FromResult(new BytesValue { Value = request.Value })));

        BytesValue empty = await host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue()).WaitAsync(Limit);
        byte[] large = new byte[3 * 1024 * 1024]; // beyond Kestrel's 768 KiB stream window and the client's initial window
        new Random(7).NextBytes(large);
        BytesValue echoed = await host.Channel.UnaryAsync(TestMethods.EchoBytes, new BytesValue { Value = ByteString.CopyFrom(large) }).WaitAsync(Limit);

        Assert.AreEqual(0, empty.Value.Length);
        CollectionAssert.AreEqual(large, echoed.Value.ToByteArray());
    }

    [TestMethod]
    public async Task ServerStreaming_DeliversEveryMessageInOrder_ThenOk()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddServerStreamingMethod(
            TestMethods.Count,
            async (request, stream, _) =>
            {
                for (long i = 1; i <= request.Value; i++)
                {
                    await stream.WriteAsync(new Int64Value { Value = i });
                }
            }));

        using AsyncServerStreamingCall<Int64Value> call = host.Channel.ServerStreaming(TestMethods.Count, new Int64Value { Value = 500 });
        var received = new List<long>();
        await foreach (Int64Value message in call.ResponseStream)
        {
            received.Add(message.Value);
        }

        CollectionAssert.AreEqual(Enumerable.Range(1, 500).Select(i => (long)i).ToList(), received);
        Assert.AreEqual(GrpcStatusCode.OK, call.GetStatus().StatusCode);
    }

    [TestMethod]
    public async Task ClientStreaming_ServerReadsUntilTheClientCompletes()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddClientStreamingMethod(
            TestMethods.Sum,
            async (requests, _) =>
            {
                long sum = 0;
                await foreach (Int64Value value in requests)
                {
                    sum += value.Value;
                }

                return new Int64Value { Value = sum };
            }));

        using AsyncClientStreamingCall<Int64Value, Int64Value> call = host.Channel.ClientStreaming(TestMethods.Sum);
        for (int i = 1; i <= 100; i++)
        {
            await call.RequestStream.WriteAsync(new Int64Value { Value = i }).WaitAsync(Limit);
        }

        await call.RequestStream.CompleteAsync();
        Int64Value total = await call.ResponseAsync.WaitAsync(Limit);

        Assert.AreEqual(5050, total.Value);
    }

    [TestMethod]
    public async Task Duplex_RefusedBeforeAnyMessage_ReportsTheServersStatus_NotACancellation()
    {
        // The server answers with its status while the client's request body is still open: HttpClient stops sending
        // the body, which must not turn the server's answer into "Cancelled".
        await using TestHost host = await TestHost.StartAsync(server => server.AddDuplexStreamingMethod(
            TestMethods.Chat,
            (_, _, _) => throw new RpcException(GrpcStatusCode.PermissionDenied, "not you")));
        for (int i = 0; i < 30; i++)
        {
            using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
            RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Limit));
            Assert.AreEqual((GrpcStatusCode.PermissionDenied, "not you"), (error.StatusCode, error.Status.Detail), $"call {i}");
        }
    }

    [TestMethod]
    public async Task Duplex_WritesAfterTheServerWentAway_FailWithAnRpcException()
    {
        // Found by the fault harness: a watch stream's write after its member was killed threw ObjectDisposedException
        // (the HTTP/2 request stream was disposed), which the client let through unmapped because it derives from
        // InvalidOperationException; callers that handle RpcException crashed. Which exception the first failing
        // write meets is a race (one run of twenty rounds in three showed it here), so the test makes a hundred rounds.
        for (int round = 0; round < 100; round++)
        {
            var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TestHost host = await TestHost.StartAsync(server => server.AddDuplexStreamingMethod(
                TestMethods.Chat,
                async (requests, _, _) =>
                {
                    await foreach (StringValue request in requests)
                    {
                        firstRead.TrySetResult();
                    }
                }));
            await using (host)
            {
                using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
                await call.RequestStream.WriteAsync(new StringValue { Value = "first" }).WaitAsync(Limit);
                await firstRead.Task.WaitAsync(Limit);
                await host.Server.DisposeAsync();
                Exception? failure = null;
                for (int i = 0; i < 200 && failure is null; i++)
                {
                    try
                    {
                        await call.RequestStream.WriteAsync(new StringValue { Value = $"m{i}" }).WaitAsync(Limit);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                }

                Assert.IsNotNull(failure, $"round {round}: writes went on after the server was gone");
                Assert.IsInstanceOfType<RpcException>(failure, $"round {round}: {failure}");
            }
        }
    }

    [TestMethod]
    public async Task Duplex_RequestsAndResponsesInterleave()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddDuplexStreamingMethod(
            TestMethods.Chat,
            async (requests, responses, _) =>
            {
                await foreach (StringValue request in requests)
                {
                    await responses.WriteAsync(new StringValue { Value = "re: " + request.Value });
                }
            }));

        using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
        for (int i = 0; i < 20; i++)
        {
            // Each answer must arrive before the next request is sent: a real duplex stream, not a buffered one.
            await call.RequestStream.WriteAsync(new StringValue { Value = $"m{i}" }).WaitAsync(Limit);
            Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
            Assert.AreEqual($"re: m{i}", call.ResponseStream.Current.Value);
        }

        await call.RequestStream.CompleteAsync();
        Assert.IsFalse(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        Assert.AreEqual(GrpcStatusCode.OK, call.GetStatus().StatusCode);
    }

    [TestMethod]
    public async Task ManyConcurrentCalls_BeyondTheStreamLimit_AllSucceed()
    {
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.Echo, async (request, context) =>
            {
                await Task.Delay(20, context.CancellationToken);
                return request;
            }),
            new GrpcServerOptions { MaxConcurrentStreamsPerConnection = 100 });

        StringValue[] responses = await Task.WhenAll(Enumerable.Range(0, 400)
            .Select(i => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) })))
            .WaitAsync(Limit);

        CollectionAssert.AreEqual(Enumerable.Range(0, 400).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), responses.Select(r => r.Value).ToList());
    }

    [TestMethod]
    public async Task Tls_WithALPNh2_CarriesAllCallShapes()
    {
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = TestHost.CreateSelfSignedCertificate();
        await using TestHost host = await TestHost.StartAsync(
            server => server
                .AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request))
                .AddDuplexStreamingMethod(TestMethods.Chat, async (requests, responses, _) =>
                {
                    await foreach (StringValue request in requests)
                    {
                        await responses.WriteAsync(request);
                    }
                }),
            certificate: certificate);

        Assert.AreEqual("https", host.Address.Scheme);
        StringValue response = await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "secret" }).WaitAsync(Limit);
        using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
        await call.RequestStream.WriteAsync(new StringValue { Value = "over tls" }).WaitAsync(Limit);
        Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        await call.RequestStream.CompleteAsync();
        Assert.IsFalse(await call.ResponseStream.MoveNext().WaitAsync(Limit));

        Assert.AreEqual("secret", response.Value);
        Assert.AreEqual("over tls", call.ResponseStream.Current.Value);
    }

    [TestMethod]
    public async Task Tls_UntrustedCertificate_IsUnavailable()
    {
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = TestHost.CreateSelfSignedCertificate();
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)), certificate: certificate);
        using var channel = new GrpcChannel(host.Address); // default validation: the self-signed certificate is not trusted

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => channel.UnaryAsync(TestMethods.Echo, new StringValue()).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.Unavailable, error.StatusCode);
    }

    [TestMethod]
    public async Task KeepAlivePings_KeepAnIdleStreamAlive()
    {
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddDuplexStreamingMethod(TestMethods.Chat, async (requests, responses, _) =>
            {
                await foreach (StringValue request in requests)
                {
                    await responses.WriteAsync(request);
                }
            }),
            new GrpcServerOptions { KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1) },
            new GrpcChannelOptions { KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1) });

        using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
        await call.RequestStream.WriteAsync(new StringValue { Value = "before" }).WaitAsync(Limit);
        Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        await Task.Delay(TimeSpan.FromSeconds(3)); // several ping rounds in both directions, answered by both sides
        await call.RequestStream.WriteAsync(new StringValue { Value = "after" }).WaitAsync(Limit);
        Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));

        Assert.AreEqual("after", call.ResponseStream.Current.Value);
    }

    /// <summary>The default idle timeout is "never": a connection with no call for several of Kestrel's 1 s heartbeats
    /// stays open (Kestrel's own "infinite", TimeSpan.MaxValue, overflowed and closed idle connections at the next
    /// heartbeat, racing with the client's next calls).</summary>
    [TestMethod]
    public async Task AnIdleConnection_StaysOpen()
    {
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        await using TestHost host = await TestHost.StartAsync(
            server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)),
            channelOptions: new GrpcChannelOptions { HttpHandler = handler });

        Assert.AreEqual("before", (await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "before" }).WaitAsync(Limit)).Value);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.AreEqual("after", (await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "after" }).WaitAsync(Limit)).Value);

        Assert.AreEqual(1, connections, "the second call found the first connection open");
    }

    /// <summary>
    /// A server with an echo method and <paramref name="addMethod"/>'s, and a client connection already used by
    /// sequential calls past HttpClient's initial burst of RTT pings: afterwards HttpClient pings (and so flushes what it
    /// has buffered) only on frames received at least 2 s apart, so nothing but a new call itself sends its headers.
    /// </summary>
    private static async Task<TestHost> StartOnAUsedConnectionAsync(Action<GrpcServer> addMethod)
    {
        TestHost host = await TestHost.StartAsync(server => addMethod(server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request))));
        for (int i = 0; i < 8; i++)
        {
            await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "warm-up" }).WaitAsync(Limit);
        }

        return host;
    }

    /// <summary>Asserts that <paramref name="response"/> ends with the server's status and that a later write fails with it.</summary>
    private static async Task AssertEndedAsync(GrpcStatusCode code, string detail, Task response, Func<Task> write)
    {
        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => response.WaitAsync(Limit));
        RpcException writeError = await Assert.ThrowsExactlyAsync<RpcException>(() => write().WaitAsync(Limit));

        Assert.AreEqual((code, detail), (error.StatusCode, error.Status.Detail));
        Assert.AreEqual(code, writeError.StatusCode);
    }

    /// <summary>
    /// A duplex call the server refuses before reading any message, on a connection that already carried calls: the
    /// status reaches the client while its request stream is still open, and its next write fails with that status.
    /// (HttpClient held such a call's HEADERS frame unflushed until the first message, so the server never saw the
    /// call; only an idle-connection close, which the never-idle timeout no longer does, ever delivered it.)
    /// </summary>
    [TestMethod]
    public async Task Duplex_RefusedBeforeAnyMessage_OnAUsedConnection_EndsWhileTheRequestStreamIsOpen()
    {
        await using TestHost host = await StartOnAUsedConnectionAsync(server => server.AddDuplexStreamingMethod(
            TestMethods.Chat, (_, _, _) => throw new RpcException(GrpcStatusCode.PermissionDenied, "not you")));

        using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);

        await AssertEndedAsync(GrpcStatusCode.PermissionDenied, "not you", call.ResponseStream.MoveNext(), () => call.RequestStream.WriteAsync(new StringValue { Value = "late" }));
    }

    /// <summary>The same for a client-streaming call: its response (here the refusal) arrives before the client completes
    /// its request stream.</summary>
    [TestMethod]
    public async Task ClientStreaming_RefusedBeforeAnyMessage_OnAUsedConnection_EndsWhileTheRequestStreamIsOpen()
    {
        await using TestHost host = await StartOnAUsedConnectionAsync(server => server.AddClientStreamingMethod(
            TestMethods.Sum, (_, _) => throw new RpcException(GrpcStatusCode.ResourceExhausted, "too many sums")));

        using AsyncClientStreamingCall<Int64Value, Int64Value> call = host.Channel.ClientStreaming(TestMethods.Sum);

        await AssertEndedAsync(GrpcStatusCode.ResourceExhausted, "too many sums", call.ResponseAsync, () => call.RequestStream.WriteAsync(new Int64Value { Value = 1 }));
    }

    /// <summary>A server may end a duplex call with OK at any time: the client reads the messages sent, then the end of
    /// the stream and OK, although it never completed its own request stream; writing after that fails.</summary>
    [TestMethod]
    public async Task Duplex_ServerEndsWithOkMidStream_TheClientSeesTheEndWhileStillSending()
    {
        await using TestHost host = await StartOnAUsedConnectionAsync(server => server.AddDuplexStreamingMethod(
            TestMethods.Chat, (_, responses, _) => responses.WriteAsync(new StringValue { Value = "hello and goodbye" })));

        using AsyncDuplexStreamingCall<StringValue, StringValue> call = host.Channel.DuplexStreaming(TestMethods.Chat);
        Assert.IsTrue(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        string greeting = call.ResponseStream.Current.Value;
        Assert.IsFalse(await call.ResponseStream.MoveNext().WaitAsync(Limit));
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => call.RequestStream.WriteAsync(new StringValue { Value = "late" }).WaitAsync(Limit));

        Assert.AreEqual("hello and goodbye", greeting);
        Assert.AreEqual(GrpcStatusCode.OK, call.GetStatus().StatusCode);
    }

    [TestMethod]
    public async Task ConnectionRefused_IsUnavailable()
    {
        using var channel = new GrpcChannel(new Uri("http://127.0.0.1:1"));

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => channel.UnaryAsync(TestMethods.Echo, new StringValue()).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.Unavailable, error.StatusCode);
    }
    [TestMethod]
    public async Task Server_ListensOnH2cAndTlsAtOnce_AndRejectsBadListenUrls()
    {
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = TestHost.CreateSelfSignedCertificate();
        await using var server = new GrpcServer(new GrpcServerOptions { ServerCertificate = certificate, ShutdownTimeout = TimeSpan.FromSeconds(2) });
        server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => new GrpcServer().ListenAsync([new Uri("http://example.com:0")]));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => new GrpcServer().ListenAsync([new Uri("https://127.0.0.1:0")]));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => new GrpcServer().ListenAsync([new Uri("http://127.0.0.1:0/prefix")]));

        await server.ListenAsync([new Uri("http://127.0.0.1:0"), new Uri("https://127.0.0.1:0")]);
        Uri h2c = server.ListeningAddresses.Single(address => address.Scheme == "http");
        Uri tls = server.ListeningAddresses.Single(address => address.Scheme == "https");
        using var plain = new GrpcChannel(h2c);
        using var secure = new GrpcChannel(tls, new GrpcChannelOptions
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });

        Assert.AreEqual("a", (await plain.UnaryAsync(TestMethods.Echo, new StringValue { Value = "a" }).WaitAsync(Limit)).Value);
        Assert.AreEqual("b", (await secure.UnaryAsync(TestMethods.Echo, new StringValue { Value = "b" }).WaitAsync(Limit)).Value);
        Assert.ThrowsExactly<InvalidOperationException>(() => server.AddUnaryMethod(TestMethods.EchoBytes, (request, _) => Task.FromResult(request)));
    }
}
