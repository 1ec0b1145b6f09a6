using System.Net.Security;

namespace CurpStore.Rpc;

/// <summary>Limits and transport settings of a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The largest response message accepted, in bytes; larger ones end the call with RESOURCE_EXHAUSTED. gRPC's default, 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest request message sent, in bytes; larger ones end the call with RESOURCE_EXHAUSTED before anything is sent.</summary>
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Calls in flight at once on the channel; one more fails at once with RESOURCE_EXHAUSTED instead of queueing
    /// without bound. A call counts until its status is known (read to the end, failed, or disposed).
    /// </summary>
    public int MaxConcurrentCalls { get; set; } = 10_000;

    /// <summary>HTTP/2 connections to the server at most; calls beyond their streams wait for a free stream.</summary>
    public int MaxConnections { get; set; } = 64;

    /// <summary>How long a connection may be silent before the client pings it; <see cref="Timeout.InfiniteTimeSpan"/> disables pings.</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long to wait for a ping's ACK before the connection is considered dead.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Whether to ping also while no call is in flight (gRPC's PermitWithoutStream).</summary>
    public bool KeepAlivePingWithoutCalls { get; set; }

    /// <summary>How long to wait for a TCP (and TLS) connection; grpc-go's minimum connect timeout, 20 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>TLS settings for <c>https://</c> addresses: server certificate validation, client certificates.</summary>
    public SslClientAuthenticationOptions? SslOptions { get; set; }

    /// <summary>
    /// A handler to send requests through instead of the channel's own <see cref="SocketsHttpHandler"/> (tests,
    /// proxies). The channel does not dispose it.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxReceiveMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentCalls);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConnections);
    }
}
