using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace CurpStore.Rpc;

/// <summary>The request stream of a client-streaming or duplex call, read from the HTTP/2 request body.</summary>
internal sealed class ServerRequestStream<T>(ServerCall call, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private bool _ended;

    public T Current { get; private set; } = null!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return false;
        }

        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(call.CancellationToken, cancellationToken)
            : null;
        T? message = await call.ReadRequestAsync(parser, linked?.Token ?? call.CancellationToken).ConfigureAwait(false);
        if (message is null)
        {
            _ended = true;
            return false;
        }

        Current = message;
        return true;
    }

    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return Current;
        }
    }
}

/// <summary>The response stream of a server-streaming or duplex call.</summary>
internal sealed class ServerResponseStream<T>(ServerCall call) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    public Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return call.WriteMessageAsync(message, cancellationToken);
    }
}

/// <summary>Adapts a typed handler to the dispatcher: reads the request side, runs the handler, writes the response side.</summary>
internal abstract class ServerMethodHandler(MethodType type)
{
    public MethodType Type { get; } = type;

    public abstract Task InvokeAsync(ServerCall call);
}

internal sealed class UnaryHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
    : ServerMethodHandler(MethodType.Unary)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task InvokeAsync(ServerCall call)
    {
        TRequest request = await call.ReadSingleRequestAsync(method.RequestParser).ConfigureAwait(false);
        Admit(call, method.FullName, request);
        TResponse response = await handler(request, call.Context).ConfigureAwait(false);
        await call.WriteMessageAsync(response ?? throw NullResponse(method.FullName), default).ConfigureAwait(false);
    }

    /// <summary>Throws the refusal of <see cref="GrpcServerOptions.CallAdmission"/>, if any.</summary>
    internal static void Admit(ServerCall call, string methodName, IMessage? request)
    {
        if (call.Options.CallAdmission?.Invoke(methodName, request) is { } refusal)
        {
            throw refusal;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static InvalidOperationException NullResponse(string method) => new($"The handler of {method} returned no response message.");
}

internal sealed class ServerStreamingHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
    : ServerMethodHandler(MethodType.ServerStreaming)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task InvokeAsync(ServerCall call)
    {
        TRequest request = await call.ReadSingleRequestAsync(method.RequestParser).ConfigureAwait(false);
        UnaryHandler<TRequest, TResponse>.Admit(call, method.FullName, request);
        await handler(request, new ServerResponseStream<TResponse>(call), call.Context).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
    : ServerMethodHandler(MethodType.ClientStreaming)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task InvokeAsync(ServerCall call)
    {
        UnaryHandler<TRequest, TResponse>.Admit(call, method.FullName, null);
        TResponse response = await handler(new ServerRequestStream<TRequest>(call, method.RequestParser), call.Context).ConfigureAwait(false);
        await call.WriteMessageAsync(response ?? throw UnaryHandler<TRequest, TResponse>.NullResponse(method.FullName), default).ConfigureAwait(false);
    }
}

internal sealed class DuplexStreamingHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
    : ServerMethodHandler(MethodType.DuplexStreaming)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override Task InvokeAsync(ServerCall call)
    {
        UnaryHandler<TRequest, TResponse>.Admit(call, method.FullName, null);
        return handler(new ServerRequestStream<TRequest>(call, method.RequestParser), new ServerResponseStream<TResponse>(call), call.Context);
    }
}
