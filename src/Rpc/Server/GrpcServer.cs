using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CurpStore.Rpc;

/// <summary>
/// A gRPC server on Kestrel: a registry of methods (<c>/package.Service/Method</c> to a typed handler) and the HTTP/2
/// host that serves them over h2c and TLS. Register every method, then <see cref="ListenAsync"/>; the registry is
/// frozen from then on, so dispatch reads it without locks.
/// </summary>
/// <remarks>Split by concern: registry here, Kestrel hosting in GrpcServer.Hosting.cs, request dispatch in GrpcServer.Dispatch.cs.</remarks>
public sealed partial class GrpcServer : IAsyncDisposable
{
    private readonly Dictionary<string, ServerMethodHandler> _methods = new(StringComparer.Ordinal);
    private readonly HashSet<string> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<CancellationToken, Task<HttpGetResponse>>> _httpGets = new(StringComparer.Ordinal);
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a server; nothing listens until <see cref="ListenAsync"/>.</summary>
    public GrpcServer(GrpcServerOptions? options = null)
    {
        _options = options ?? new GrpcServerOptions();
        _options.Validate();
        _logger = _options.LoggerFactory?.CreateLogger<GrpcServer>() ?? NullLogger<GrpcServer>.Instance;
    }

    /// <summary>The server's settings.</summary>
    public GrpcServerOptions Options => _options;

    /// <summary>The full names of the registered methods.</summary>
    public IReadOnlyCollection<string> MethodNames => _methods.Keys;

    /// <summary>Registers a unary method.</summary>
    /// <exception cref="ArgumentException">The method is not unary, or is already registered.</exception>
    /// <exception cref="InvalidOperationException">The server is already listening.</exception>
    public GrpcServer AddUnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Add(method, MethodType.Unary, new UnaryHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Registers a server-streaming method.</summary>
    /// <exception cref="ArgumentException">The method is not server-streaming, or is already registered.</exception>
    /// <exception cref="InvalidOperationException">The server is already listening.</exception>
    public GrpcServer AddServerStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Add(method, MethodType.ServerStreaming, new ServerStreamingHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Registers a client-streaming method.</summary>
    /// <exception cref="ArgumentException">The method is not client-streaming, or is already registered.</exception>
    /// <exception cref="InvalidOperationException">The server is already listening.</exception>
    public GrpcServer AddClientStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Add(method, MethodType.ClientStreaming, new ClientStreamingHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Registers a bidirectional-streaming method.</summary>
    /// <exception cref="ArgumentException">The method is not duplex, or is already registered.</exception>
    /// <exception cref="InvalidOperationException">The server is already listening.</exception>
    public GrpcServer AddDuplexStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Add(method, MethodType.DuplexStreaming, new DuplexStreamingHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Registers a plain HTTP GET resource next to the gRPC methods (etcd serves <c>/metrics</c> and
    /// <c>/health</c> on its client URL the same way). <paramref name="handler"/> answers with a status, a content type
    /// and a body; it is served on whatever HTTP version the endpoint speaks (h2c on http:// endpoints).</summary>
    /// <exception cref="ArgumentException">The path does not start with '/', or is already registered.</exception>
    /// <exception cref="InvalidOperationException">The server is already listening.</exception>
    public GrpcServer AddHttpGet(string path, Func<CancellationToken, Task<HttpGetResponse>> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(handler);
        if (_app is not null)
        {
            throw new InvalidOperationException("Resources must be registered before the server listens.");
        }

        if (!path.StartsWith('/') || !_httpGets.TryAdd(path, handler))
        {
            throw new ArgumentException($"{path} must start with '/' and be registered once", nameof(path));
        }

        return this;
    }

    private GrpcServer Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, ServerMethodHandler handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_app is not null)
        {
            throw new InvalidOperationException("Methods must be registered before the server listens.");
        }

        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.FullName} is {method.Type}, not {expected}", nameof(method));
        }

        if (!_methods.TryAdd(method.FullName, handler))
        {
            throw new ArgumentException($"{method.FullName} is already registered", nameof(method));
        }

        _services.Add(method.ServiceName);
        return this;
    }
}

/// <summary>The answer of a plain HTTP GET resource (<see cref="GrpcServer.AddHttpGet"/>).</summary>
public sealed record HttpGetResponse(int StatusCode, string ContentType, string Body);
