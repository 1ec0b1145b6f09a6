using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>Metadata both ways, statuses in trailers and trailers-only responses, and grpc-go's answers to bad requests.</summary>
[TestClass]
public sealed class StatusAndMetadataTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task RequestMetadata_ReachesTheHandler_AsciiAndBinary()
    {
        Metadata? seen = null;
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, context) =>
        {
            seen = context.RequestHeaders;
            return Task.FromResult(request);
        }));
        var headers = new Metadata().Add("authorization", "Bearer abc").Add("Token", "xyz").Add("trace-bin", [0, 1, 2, 255]);

        await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue(), new CallOptions(Headers: headers)).WaitAsync(Limit);

        Assert.IsNotNull(seen);
        Assert.AreEqual("Bearer abc", seen.GetValue("authorization"));
        Assert.AreEqual("xyz", seen.GetValue("token"));
        CollectionAssert.AreEqual(new byte[] { 0, 1, 2, 255 }, seen.GetValueBytes("trace-bin"));
        Assert.IsNull(seen.GetValue("content-type"), "protocol headers are not metadata");
        Assert.IsNull(seen.GetValue("te"));
    }

    [TestMethod]
    public async Task ResponseHeadersAndTrailers_ReachTheClient()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, async (request, context) =>
        {
            await context.WriteResponseHeadersAsync(new Metadata().Add("x-header", "h").Add("x-header-bin", [9, 8]));
            context.ResponseTrailers.Add("x-trailer", "t");
            return request;
        }));

        using AsyncUnaryCall<StringValue> call = host.Channel.StartUnary(TestMethods.Echo, new StringValue { Value = "v" });
        Metadata headers = await call.ResponseHeadersAsync.WaitAsync(Limit);
        StringValue response = await call.ResponseAsync.WaitAsync(Limit);

        Assert.AreEqual("v", response.Value);
        Assert.AreEqual("h", headers.GetValue("x-header"));
        CollectionAssert.AreEqual(new byte[] { 9, 8 }, headers.GetValueBytes("x-header-bin"));
        Assert.AreEqual("t", call.GetTrailers().GetValue("x-trailer"));
        Assert.AreEqual(GrpcStatus.Ok, call.GetStatus());
    }

    [TestMethod]
    public async Task HandlerStatus_WithTrailersAndNonAsciiMessage_ReachesTheClientIntact()
    {
        const string detail = "key \"ä/√\" not found: 100%";
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod<StringValue, StringValue>(
            TestMethods.Echo, (_, _) => throw new RpcException(GrpcStatusCode.NotFound, detail, new Metadata().Add("x-reason", "missing"))));

        using AsyncUnaryCall<StringValue> call = host.Channel.StartUnary(TestMethods.Echo, new StringValue());
        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.AreEqual(detail, error.Detail);
        Assert.AreEqual("missing", error.Trailers.GetValue("x-reason"));
        Assert.AreEqual(new GrpcStatus(GrpcStatusCode.NotFound, detail), call.GetStatus());
    }

    [TestMethod]
    public async Task ImmediateError_IsATrailersOnlyResponse()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod<StringValue, StringValue>(
            TestMethods.Echo, (_, _) => throw new RpcException(GrpcStatusCode.PermissionDenied, "no")));
        using HttpClient raw = host.CreateRawClient();

        using HttpResponseMessage response = await raw.SendAsync(GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue())));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.AreEqual("7", Single(response.Headers, "grpc-status"), "the status travels in the one HEADERS frame");
        Assert.AreEqual("no", Single(response.Headers, "grpc-message"));
        Assert.AreEqual(0, body.Length);
        Assert.IsFalse(response.TrailingHeaders.Contains("grpc-status"));
    }

    [TestMethod]
    public async Task SuccessfulCall_CarriesItsStatusInTrailers()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();

        using HttpResponseMessage response = await raw.SendAsync(GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue { Value = "x" })));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        CollectionAssert.AreEqual(Frame(new StringValue { Value = "x" }), body);
        Assert.IsFalse(response.Headers.Contains("grpc-status"));
        Assert.AreEqual("0", Single(response.TrailingHeaders, "grpc-status"));
    }

    [TestMethod]
    public async Task HandlerException_IsUnknown_WithoutLeakingDetailsByDefault()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod<StringValue, StringValue>(
            TestMethods.Echo, (_, _) => throw new InvalidOperationException("secret internals")));

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(TestMethods.Echo, new StringValue()).WaitAsync(Limit));

        Assert.AreEqual(GrpcStatusCode.Unknown, error.StatusCode);
        Assert.AreEqual("Exception was thrown by handler.", error.Detail);
    }

    [TestMethod]
    public async Task UnknownServiceAndMethod_AreUnimplemented_LikeGrpcGo()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        var unknownMethod = new Method<StringValue, StringValue>(MethodType.Unary, "test.Echo", "Nope", StringValue.Parser, StringValue.Parser);
        var unknownService = new Method<StringValue, StringValue>(MethodType.Unary, "test.Other", "Echo", StringValue.Parser, StringValue.Parser);

        RpcException method = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(unknownMethod, new StringValue()).WaitAsync(Limit));
        RpcException service = await Assert.ThrowsExactlyAsync<RpcException>(() => host.Channel.UnaryAsync(unknownService, new StringValue()).WaitAsync(Limit));
        using HttpClient raw = host.CreateRawClient();
        using HttpResponseMessage response = await raw.SendAsync(GrpcRequest("/test.Other/Echo", Frame(new StringValue())));

        Assert.AreEqual(GrpcStatusCode.Unimplemented, method.StatusCode);
        Assert.AreEqual("unknown method Nope for service test.Echo", method.Detail);
        Assert.AreEqual(GrpcStatusCode.Unimplemented, service.StatusCode);
        Assert.AreEqual("unknown service test.Other", service.Detail);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("12", Single(response.Headers, "grpc-status"));
    }

    [TestMethod]
    public async Task WrongContentType_Is415WithInvalidArgument()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();
        var request = GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue()));
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using HttpResponseMessage response = await raw.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.AreEqual("3", Single(response.Headers, "grpc-status"));
        Assert.AreEqual("invalid gRPC request content-type \"application/json\"", Uri.UnescapeDataString(Single(response.Headers, "grpc-message")));
    }

    [TestMethod]
    public async Task NonPost_Is405WithInternal()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();
        HttpRequestMessage request = GrpcRequest(TestMethods.Echo.FullName, []);
        request.Method = HttpMethod.Put;

        using HttpResponseMessage response = await raw.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.Contains(Single(response.Headers, "grpc-message"), "which should be POST");
    }

    [TestMethod]
    public async Task MalformedTimeout_Is400WithInternal()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();
        var request = GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue()));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "18f6n");

        using HttpResponseMessage response = await raw.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.StartsWith(Single(response.Headers, "grpc-message"), "malformed grpc-timeout");
    }

    [TestMethod]
    public async Task CompressedFlag_IsInternal_AndUnknownEncoding_IsUnimplemented()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();
        byte[] compressed = Frame(new StringValue { Value = "x" });
        compressed[0] = 1;
        var gzip = GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue()));
        gzip.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");

        using HttpResponseMessage flagged = await raw.SendAsync(GrpcRequest(TestMethods.Echo.FullName, compressed));
        using HttpResponseMessage encoded = await raw.SendAsync(gzip);

        Assert.AreEqual("13", Single(flagged.Headers, "grpc-status"));
        Assert.AreEqual("grpc: compressed flag set with identity or empty encoding", Single(flagged.Headers, "grpc-message"));
        Assert.AreEqual("12", Single(encoded.Headers, "grpc-status"));
        Assert.AreEqual("grpc: Decompressor is not installed for grpc-encoding \"gzip\"", Uri.UnescapeDataString(Single(encoded.Headers, "grpc-message")));
    }

    [TestMethod]
    public async Task MalformedBinaryMetadata_Is400WithInternal()
    {
        await using TestHost host = await TestHost.StartAsync(server => server.AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request)));
        using HttpClient raw = host.CreateRawClient();
        var request = GrpcRequest(TestMethods.Echo.FullName, Frame(new StringValue()));
        request.Headers.TryAddWithoutValidation("foobar-bin", "X()3e@#$-");

        using HttpResponseMessage response = await raw.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.StartsWith(Uri.UnescapeDataString(Single(response.Headers, "grpc-message")), "header \"foobar-bin\"");
    }

    internal static HttpRequestMessage GrpcRequest(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        return request;
    }

    internal static byte[] Frame(Google.Protobuf.IMessage message) => MessageFraming.ToArray(message, int.MaxValue);

    private static string Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out IEnumerable<string>? values) ? values.Single() : throw new AssertFailedException($"no {name} header");
}
