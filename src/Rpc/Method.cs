using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CurpStore.Rpc;

/// <summary>The four shapes of a gRPC call: whether the request side and the response side are streams.</summary>
public enum MethodType
{
    /// <summary>One request, one response.</summary>
    Unary,

    /// <summary>A stream of requests, one response.</summary>
    ClientStreaming,

    /// <summary>One request, a stream of responses.</summary>
    ServerStreaming,

    /// <summary>Independent streams of requests and responses.</summary>
    DuplexStreaming,
}

/// <summary>
/// Describes one RPC method: its shape, its path <c>/package.Service/Method</c> and how to parse its messages.
/// Client and server share these descriptions; Grpc.Tools runs with <c>GrpcServices="None"</c>, so they are built
/// here (by hand, or from the service descriptors protoc generates, see <see cref="FromDescriptor"/>).
/// </summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    /// <summary>Creates a method description.</summary>
    /// <param name="type">The call shape.</param>
    /// <param name="serviceName">The fully qualified service name, for example <c>etcdserverpb.KV</c>.</param>
    /// <param name="name">The method name, for example <c>Range</c>.</param>
    /// <param name="requestParser">Parses request messages.</param>
    /// <param name="responseParser">Parses response messages.</param>
    public Method(MethodType type, string serviceName, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || serviceName.Contains('/'))
        {
            throw new ArgumentException("service and method names may not contain '/'");
        }

        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = "/" + serviceName + "/" + name;
        RequestParser = requestParser ?? throw new ArgumentNullException(nameof(requestParser));
        ResponseParser = responseParser ?? throw new ArgumentNullException(nameof(responseParser));
    }

    /// <summary>The call shape.</summary>
    public MethodType Type { get; }

    /// <summary>The fully qualified service name.</summary>
    public string ServiceName { get; }

    /// <summary>The method name.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 <c>:path</c> of the method: <c>/package.Service/Method</c>.</summary>
    public string FullName { get; }

    /// <summary>Parses request messages.</summary>
    public MessageParser<TRequest> RequestParser { get; }

    /// <summary>Parses response messages.</summary>
    public MessageParser<TResponse> ResponseParser { get; }

    /// <summary>
    /// Builds the description from the method descriptor protoc generated, so that the shape and the names cannot
    /// drift from the .proto file.
    /// </summary>
    /// <exception cref="ArgumentException">The descriptor's message types are not <typeparamref name="TRequest"/> and <typeparamref name="TResponse"/>.</exception>
    public static Method<TRequest, TResponse> FromDescriptor(MethodDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{descriptor.FullName} takes {descriptor.InputType.ClrType?.Name} and returns {descriptor.OutputType.ClrType?.Name}, " +
                $"not {typeof(TRequest).Name} and {typeof(TResponse).Name}",
                nameof(descriptor));
        }

        MethodType type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        return new Method<TRequest, TResponse>(
            type,
            descriptor.Service.FullName,
            descriptor.Name,
            (MessageParser<TRequest>)descriptor.InputType.Parser,
            (MessageParser<TResponse>)descriptor.OutputType.Parser);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} {FullName}";
}
