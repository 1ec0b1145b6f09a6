using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CurpStore.Rpc;

/// <summary>Kestrel hosting: endpoints, HTTP/2 limits and keep-alive, start and stop.</summary>
public sealed partial class GrpcServer
{
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private IReadOnlyList<Uri> _listeningAddresses = [];
    private int _disposed;

    /// <summary>The addresses really bound, with the ports chosen for port 0; empty before <see cref="ListenAsync"/>.</summary>
    public IReadOnlyList<Uri> ListeningAddresses => _listeningAddresses;

    /// <summary>
    /// Starts listening. <c>http://ip:port</c> serves h2c (HTTP/2 with prior knowledge, no HTTP/1.1),
    /// <c>https://ip:port</c> serves HTTP/2 over TLS negotiated with ALPN "h2" using
    /// <see cref="GrpcServerOptions.ServerCertificate"/>. Hosts are IP addresses (0.0.0.0 and [::] for all
    /// interfaces) or <c>localhost</c>; port 0 picks a free port (not with localhost), see
    /// <see cref="ListeningAddresses"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A URL has another scheme, a path, a host name, or https without a certificate.</exception>
    /// <exception cref="InvalidOperationException">The server was already started.</exception>
    public async Task ListenAsync(IReadOnlyList<Uri> urls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Count == 0)
        {
            throw new ArgumentException("at least one listen URL is required", nameof(urls));
        }

        if (_app is not null)
        {
            throw new InvalidOperationException("The server is already listening.");
        }

        foreach (Uri url in urls)
        {
            ValidateListenUrl(url);
            if (url.Scheme == Uri.UriSchemeHttps && _options.ServerCertificate is null && _options.ConfigureHttps is null)
            {
                throw new ArgumentException($"listen URL {url} is https but GrpcServerOptions.ServerCertificate is not set");
            }
        }

        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => ConfigureKestrel(kestrel, urls));
        WebApplication app = builder.Build();
        ((IApplicationBuilder)app).Run(HandleAsync);
        _app = app;
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        ICollection<string> bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        _listeningAddresses = bound.Select(address => new Uri(address)).ToArray();
        _logger.LogInformation("gRPC server listening on {Addresses}", string.Join(", ", _listeningAddresses));
    }

    /// <summary>
    /// Stops the server: refuses new calls (HTTP/2 GOAWAY), cancels the calls in flight (they end with
    /// UNAVAILABLE) and waits for them to finish until <paramref name="cancellationToken"/> fires, then aborts the
    /// connections.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops (waiting at most <see cref="GrpcServerOptions.ShutdownTimeout"/>) and releases the host.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_app is not null)
        {
            using (var timeout = new CancellationTokenSource(_options.ShutdownTimeout))
            {
                await StopAsync(timeout.Token).ConfigureAwait(false);
            }

            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static void ValidateListenUrl(Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"listen URL {url} must be http:// (h2c) or https:// (TLS)");
        }

        if (url.AbsolutePath != "/" || !string.IsNullOrEmpty(url.Query))
        {
            throw new ArgumentException($"listen URL {url} may not have a path or query");
        }

        if (!url.IsLoopback || url.HostNameType is not UriHostNameType.Dns)
        {
            if (!IPAddress.TryParse(url.Host.Trim('[', ']'), out _))
            {
                throw new ArgumentException($"listen URL {url} must name an IP address or localhost, not a host name");
            }
        }
    }

    private void ConfigureKestrel(KestrelServerOptions kestrel, IReadOnlyList<Uri> urls)
    {
        kestrel.AddServerHeader = false;
        KestrelServerLimits limits = kestrel.Limits;
        limits.MaxConcurrentConnections = _options.MaxConcurrentConnections;
        limits.MaxRequestBodySize = null; // a stream's total length is unbounded; each message is bounded
        limits.MinRequestBodyDataRate = null; // streams may idle (a watch with no events, keep-alives every few seconds)
        limits.KeepAliveTimeout = _options.ConnectionIdleTimeout == Timeout.InfiniteTimeSpan ? NeverIdleTimeout : _options.ConnectionIdleTimeout;
        limits.Http2.MaxStreamsPerConnection = _options.MaxConcurrentStreamsPerConnection;
        limits.Http2.KeepAlivePingDelay = ToKestrelTimeout(_options.KeepAlivePingDelay);
        limits.Http2.KeepAlivePingTimeout = ToKestrelTimeout(_options.KeepAlivePingTimeout);

        foreach (Uri url in urls)
        {
            void Configure(ListenOptions listen)
            {
                listen.Protocols = _options.Http1Only ? HttpProtocols.Http1 : HttpProtocols.Http2;
                if (url.Scheme == Uri.UriSchemeHttps)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = _options.ServerCertificate;
                        _options.ConfigureHttps?.Invoke(https);
                    });
                }

                if (_options.RepairUrlAuthority && !_options.Http1Only)
                {
                    AuthorityRepair.Use(listen, limits.Http2, limits.MaxRequestHeadersTotalSize); // after TLS: sees plaintext HTTP/2
                }
            }

            if (url.IsLoopback && url.HostNameType == UriHostNameType.Dns)
            {
                kestrel.ListenLocalhost(url.Port, Configure);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(url.Host.Trim('[', ']')), url.Port, Configure);
            }
        }
    }

    /// <summary>
    /// "Never" for Kestrel's keep-alive (idle connection) timeout. Not <see cref="TimeSpan.MaxValue"/>: Kestrel adds the
    /// timeout, as <see cref="long.MaxValue"/> ticks, to the current timestamp, which overflows, so the "infinite"
    /// timeout fired at the next heartbeat (1 s) whenever a connection had no call in flight. Under load that
    /// graceful close raced with new calls, which failed with "The HTTP/2 server closed the connection. HTTP/2 error code
    /// 'NO_ERROR'". Ten years does not overflow.
    /// </summary>
    private static readonly TimeSpan NeverIdleTimeout = TimeSpan.FromDays(3650);

    /// <summary>Kestrel takes <see cref="TimeSpan.MaxValue"/> for "never" (its HTTP/2 ping settings).</summary>
    private static TimeSpan ToKestrelTimeout(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : timeout;
}
