using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace CurpStore.Rpc;

/// <summary>
/// What a handler knows about its call, and the call's response metadata. Handlers must observe
/// <see cref="CancellationToken"/>: it fires when the client cancels (RST_STREAM), the deadline passes or the server
/// stops, and the call's HTTP/2 stream is only released once the handler returns.
/// </summary>
public sealed class ServerCallContext
{
    private readonly ServerCall _call;

    internal ServerCallContext(ServerCall call, string method, string host, string peer, DateTime deadline, Metadata requestHeaders, X509Certificate2? clientCertificate)
    {
        _call = call;
        Method = method;
        Host = host;
        Peer = peer;
        Deadline = deadline;
        RequestHeaders = requestHeaders;
        ClientCertificate = clientCertificate;
    }

    /// <summary>The method's path, <c>/package.Service/Method</c>.</summary>
    public string Method { get; }

    /// <summary>The request's <c>:authority</c>.</summary>
    public string Host { get; }

    /// <summary>The client's address, as <c>ipv4:127.0.0.1:5000</c> or <c>ipv6:[::1]:5000</c> (gRPC's peer format).</summary>
    public string Peer { get; }

    /// <summary>The call's deadline in UTC, from the client's <c>grpc-timeout</c>; <see cref="DateTime.MaxValue"/> when there is none.</summary>
    public DateTime Deadline { get; }

    /// <summary>The client's custom request headers (for example <c>authorization</c> or <c>token</c>).</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>Custom trailers to send with the status; add to it any time before the handler returns.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The client's TLS certificate, when the connection is TLS and the server asked for one.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>Cancelled when the client cancels, the deadline passes or the server stops.</summary>
    public CancellationToken CancellationToken => _call.CancellationToken;

    /// <summary>
    /// Sends the response headers now, with custom metadata. Without this call, headers (without custom metadata)
    /// go out with the first response message, or with the status as a trailers-only response.
    /// </summary>
    /// <exception cref="InvalidOperationException">Headers were already sent, or the call is complete.</exception>
    public Task WriteResponseHeadersAsync(Metadata responseHeaders) => _call.WriteHeadersAsync(responseHeaders);

    internal static string FormatPeer(System.Net.IPAddress? address, int port)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"ipv6:[{address}]:{port}" : $"ipv4:{address}:{port}";
    }
}
