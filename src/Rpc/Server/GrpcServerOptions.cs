using Google.Protobuf;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace CurpStore.Rpc;

/// <summary>
/// Limits and transport settings of a <see cref="GrpcServer"/>. Every limit is finite by default (principle 4),
/// except the total length of a stream: a lease keep-alive or watch stream lives as long as its client, so only each
/// message on it is bounded.
/// </summary>
public sealed class GrpcServerOptions
{
    /// <summary>The largest request message accepted, in bytes; larger ones end the call with RESOURCE_EXHAUSTED. gRPC's default, 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest response message sent, in bytes; larger ones end the call with RESOURCE_EXHAUSTED. Unbounded in grpc-go; 64 MiB here.</summary>
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls in flight per connection. Clients queue or open new connections
    /// beyond it. At least 100: clients (grpc-go, .NET) assume 100 until the server's SETTINGS arrive, and Kestrel
    /// answers streams it refuses in that window with a connection error that fails every call on the connection.
    /// </summary>
    public int MaxConcurrentStreamsPerConnection { get; set; } = 1000;

    /// <summary>Connections accepted at once per server; more are refused.</summary>
    public long MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>
    /// How long a connection may be silent before the server pings it (Kestrel's Http2 KeepAlivePingDelay).
    /// etcd's <c>--grpc-keepalive-interval</c> default, 2 hours. <see cref="Timeout.InfiniteTimeSpan"/> disables pings.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long to wait for a ping's ACK before closing the connection; etcd's <c>--grpc-keepalive-timeout</c> default, 20 s.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a connection without calls stays open. grpc-go keeps idle connections forever, and etcd clients
    /// expect that; keep-alive pings still find dead peers. <see cref="Timeout.InfiniteTimeSpan"/> means forever.
    /// </summary>
    public TimeSpan ConnectionIdleTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Whether to accept requests whose <c>:authority</c> is a URL (<c>http://host:port</c>), as etcd's Go client up to
    /// 3.5.0 and etcdctl 3.4's endpoint commands send it. grpc-go servers accept them; Kestrel rejects them, so the
    /// server rewrites such headers to <c>host:port</c> before Kestrel parses them (see AuthorityRepair). Costs one
    /// HPACK decode and re-encode per request header block.
    /// </summary>
    public bool RepairUrlAuthority { get; set; } = true;

    /// <summary>Serve HTTP/1.1 instead of HTTP/2: then only the plain GET resources (<see cref="GrpcServer.AddHttpGet"/>)
    /// answer, for clients such as metric scrapers that do not speak h2c (etcd's <c>--listen-metrics-urls</c>).</summary>
    public bool Http1Only { get; set; }

    /// <summary>The certificate of <c>https://</c> listen URLs (TLS with ALPN "h2"). Required when one is given.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>Further TLS settings, for example client certificate mode and validation (etcd's <c>--client-cert-auth</c>).</summary>
    public Action<HttpsConnectionAdapterOptions>? ConfigureHttps { get; set; }

    /// <summary>
    /// Whether a handler's unexpected exception text reaches the client in <c>grpc-message</c>. Off by default so
    /// internals do not leak; the exception is logged either way.
    /// </summary>
    public bool EnableDetailedErrors { get; set; }

    /// <summary>Where the server and Kestrel log; nothing is logged when null.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>How long <see cref="GrpcServer.DisposeAsync"/> lets calls in flight finish before aborting them.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Judges every call before its handler runs (as a gRPC interceptor would): gets the method's full name and
    /// the request (null for client- and duplex-streaming calls, whose requests come later) and returns an exception
    /// to refuse the call with its status, or null to let it run.</summary>
    public Func<string, IMessage?, RpcException?>? CallAdmission { get; set; }

    /// <summary>Bounds the calls of some methods in flight at once; the excess waits for a place in a bounded room or is
    /// refused, before it is read. Null: no bound beyond <see cref="MaxConcurrentStreamsPerConnection"/>. Checked before
    /// <see cref="CallAdmission"/>.</summary>
    public CallLimit? CallLimit { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxReceiveMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendMessageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentStreamsPerConnection, 100);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentConnections);
    }
}
