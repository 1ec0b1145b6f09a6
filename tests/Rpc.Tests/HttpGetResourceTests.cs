using System.Net;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>Plain GET resources next to the gRPC methods (<see cref="GrpcServer.AddHttpGet"/>: the member's
/// <c>/metrics</c> and <c>/health</c>), over h2c and, with <see cref="GrpcServerOptions.Http1Only"/>, over HTTP/1.1.</summary>
[TestClass]
public sealed class HttpGetResourceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static void Register(GrpcServer server) => server
        .AddUnaryMethod(TestMethods.Echo, (request, _) => Task.FromResult(request))
        .AddHttpGet("/status", _ => Task.FromResult(new HttpGetResponse(503, "application/json", "{\"ok\":false}")));

    [TestMethod]
    public async Task AGetResource_AnswersOverH2c_AndGrpcStillWorksOnThePort()
    {
        await using var host = await TestHost.StartAsync(Register);
        using var http = host.CreateRawClient();
        using var response = await http.GetAsync(new Uri("/status", UriKind.Relative)).WaitAsync(Limit);
        Assert.AreEqual((HttpStatusCode.ServiceUnavailable, new Version(2, 0), "application/json"), (response.StatusCode, response.Version, response.Content.Headers.ContentType?.MediaType));
        Assert.AreEqual("{\"ok\":false}", await response.Content.ReadAsStringAsync());
        Assert.AreEqual("x", (await host.Channel.UnaryAsync(TestMethods.Echo, new StringValue { Value = "x" }).WaitAsync(Limit)).Value);

        // Only GET on a registered path: anything else is a gRPC request and is refused as one.
        using var post = await http.PostAsync(new Uri("/status", UriKind.Relative), new StringContent("")).WaitAsync(Limit);
        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, post.StatusCode);
        using var other = await http.GetAsync(new Uri("/other", UriKind.Relative)).WaitAsync(Limit);
        Assert.AreNotEqual(HttpStatusCode.OK, other.StatusCode);
    }

    [TestMethod]
    public async Task Http1Only_ServesTheGetResourceToAnHttp11Client()
    {
        await using var host = await TestHost.StartAsync(Register, new GrpcServerOptions { Http1Only = true });
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(host.Address, "/status")).WaitAsync(Limit);
        Assert.AreEqual((HttpStatusCode.ServiceUnavailable, new Version(1, 1)), (response.StatusCode, response.Version));
        Assert.AreEqual("{\"ok\":false}", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task APath_IsRegisteredOnce_AndStartsWithASlash()
    {
        await using var server = new GrpcServer();
        server.AddHttpGet("/metrics", _ => Task.FromResult(new HttpGetResponse(200, "text/plain", "")));
        Assert.ThrowsExactly<ArgumentException>(() => server.AddHttpGet("/metrics", _ => Task.FromResult(new HttpGetResponse(200, "text/plain", ""))));
        Assert.ThrowsExactly<ArgumentException>(() => server.AddHttpGet("health", _ => Task.FromResult(new HttpGetResponse(200, "text/plain", ""))));
    }
}
