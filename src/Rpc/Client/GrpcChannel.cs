using System.Net;
using Google.Protobuf;

namespace CurpStore.Rpc;

/// <summary>
/// A client connection to one gRPC server address, and the entry point for calls (Grpc.Net.Client's GrpcChannel and
/// CallInvoker in one, since those packages are not in the feed). <c>http://</c> addresses speak h2c with prior
/// knowledge, <c>https://</c> addresses HTTP/2 over TLS (ALPN "h2"). One channel multiplexes all calls over its HTTP/2
/// connections and opens another connection when the server's concurrent-stream limit is reached. Thread-safe.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly bool _ownsHandler;
    private int _callsInFlight;

    /// <summary>Creates a channel; the connection opens with the first call.</summary>
    /// <exception cref="ArgumentException">The address is not an absolute http:// or https:// URI.</exception>
    public GrpcChannel(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"channel address {address} must be http:// (h2c) or https:// (TLS)", nameof(address));
        }

        Address = address;
        Options = options ?? new GrpcChannelOptions();
        Options.Validate();
        HttpMessageHandler handler;
        if (Options.HttpHandler is { } given)
        {
            handler = given;
        }
        else
        {
            handler = CreateHandler(Options);
            _ownsHandler = true;
        }

        Invoker = new HttpMessageInvoker(handler, disposeHandler: _ownsHandler);
    }

    /// <summary>The server address.</summary>
    public Uri Address { get; }

    /// <summary>The channel's settings.</summary>
    public GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker { get; }

    /// <summary>Takes one of the <see cref="GrpcChannelOptions.MaxConcurrentCalls"/> slots, or returns false.</summary>
    internal bool TryAcquireCall()
    {
        if (Interlocked.Increment(ref _callsInFlight) <= Options.MaxConcurrentCalls)
        {
            return true;
        }

        Interlocked.Decrement(ref _callsInFlight);
        return false;
    }

    internal void ReleaseCall() => Interlocked.Decrement(ref _callsInFlight);

    /// <summary>Creates a channel for an address string such as <c>http://127.0.0.1:2379</c>.</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null) => new(new Uri(address), options);

    /// <summary>Makes a unary call and returns its response.</summary>
    /// <exception cref="RpcException">The call ended with a status other than OK.</exception>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        using AsyncUnaryCall<TResponse> call = StartUnary(method, request, options);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>Starts a unary call, keeping access to its headers, status and trailers.</summary>
    public AsyncUnaryCall<TResponse> StartUnary<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ClientCall<TRequest, TResponse> call = Start(method, MethodType.Unary, request ?? throw new ArgumentNullException(nameof(request)), options);
        return new AsyncUnaryCall<TResponse>(call, call.ReadSingleResponseAsync());
    }

    /// <summary>Starts a server-streaming call.</summary>
    public AsyncServerStreamingCall<TResponse> ServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ClientCall<TRequest, TResponse> call = Start(method, MethodType.ServerStreaming, request ?? throw new ArgumentNullException(nameof(request)), options);
        return new AsyncServerStreamingCall<TResponse>(call, new ClientResponseStream<TRequest, TResponse>(call));
    }

    /// <summary>Starts a client-streaming call.</summary>
    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ClientCall<TRequest, TResponse> call = Start(method, MethodType.ClientStreaming, null, options);
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, new ClientRequestStream<TRequest, TResponse>(call), call.ReadSingleResponseAsync());
    }

    /// <summary>Starts a bidirectional call.</summary>
    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ClientCall<TRequest, TResponse> call = Start(method, MethodType.DuplexStreaming, null, options);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, new ClientRequestStream<TRequest, TResponse>(call), new ClientResponseStream<TRequest, TResponse>(call));
    }

    /// <summary>Closes the connections; calls in flight fail.</summary>
    public void Dispose() => Invoker.Dispose();

    private ClientCall<TRequest, TResponse> Start<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, TRequest? request, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.FullName} is {method.Type}, not {expected}", nameof(method));
        }

        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.Start(request);
        return call;
    }

    private static SocketsHttpHandler CreateHandler(GrpcChannelOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // More calls than the server's SETTINGS_MAX_CONCURRENT_STREAMS open another connection instead of queueing.
            EnableMultipleHttp2Connections = true,
            MaxConnectionsPerServer = options.MaxConnections,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = options.KeepAlivePingWithoutCalls ? HttpKeepAlivePingPolicy.Always : HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
        };
        if (options.SslOptions is { } ssl)
        {
            handler.SslOptions = ssl;
        }

        return handler;
    }
}
