using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Rpc.Tests;

/// <summary>Test methods over well-known wrapper messages, so the tests need no .proto of their own.</summary>
internal static class TestMethods
{
    public static readonly Method<StringValue, StringValue> Echo = new(MethodType.Unary, "test.Echo", "Echo", StringValue.Parser, StringValue.Parser);
    public static readonly Method<BytesValue, BytesValue> EchoBytes = new(MethodType.Unary, "test.Echo", "EchoBytes", BytesValue.Parser, BytesValue.Parser);
    public static readonly Method<Int64Value, Int64Value> Count = new(MethodType.ServerStreaming, "test.Echo", "Count", Int64Value.Parser, Int64Value.Parser);
    public static readonly Method<Int64Value, Int64Value> Sum = new(MethodType.ClientStreaming, "test.Echo", "Sum", Int64Value.Parser, Int64Value.Parser);
    public static readonly Method<StringValue, StringValue> Chat = new(MethodType.DuplexStreaming, "test.Echo", "Chat", StringValue.Parser, StringValue.Parser);
}

/// <summary>A server on a free loopback port and a channel to it; disposing stops both.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(GrpcServer server, GrpcChannel channel)
    {
        Server = server;
        Channel = channel;
    }

    public GrpcServer Server { get; }

    public GrpcChannel Channel { get; }

    public Uri Address => Server.ListeningAddresses[0];

    public static async Task<TestHost> StartAsync(
        Action<GrpcServer> register, GrpcServerOptions? serverOptions = null, GrpcChannelOptions? channelOptions = null, X509Certificate2? certificate = null)
    {
        serverOptions ??= new GrpcServerOptions();
        serverOptions.ShutdownTimeout = TimeSpan.FromSeconds(2);
        serverOptions.ServerCertificate ??= certificate;
        var server = new GrpcServer(serverOptions);
        register(server);
        string scheme = certificate is null ? "http" : "https";
        await server.ListenAsync([new Uri($"{scheme}://127.0.0.1:0")]);
        channelOptions ??= new GrpcChannelOptions();
        if (certificate is not null)
        {
            // Trust exactly the test's self-signed certificate.
            channelOptions.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
            };
        }

        return new TestHost(server, new GrpcChannel(server.ListeningAddresses[0], channelOptions));
    }

    /// <summary>A raw HTTP/2 client, for checking what goes over the wire beneath the gRPC client.</summary>
    public HttpClient CreateRawClient() => new(new SocketsHttpHandler())
    {
        BaseAddress = Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
    }

    public static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=curpstore-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }
}
