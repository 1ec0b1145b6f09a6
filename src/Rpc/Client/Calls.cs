using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace CurpStore.Rpc;

/// <summary>What every kind of call in flight offers: its response headers, its final status and trailers, and
/// cancellation by disposal. The four call kinds below add their request and response sides.</summary>
public abstract class AsyncCall : IDisposable
{
    private readonly IClientCall _call;

    private protected AsyncCall(IClientCall call) => _call = call;

    /// <summary>The response headers' metadata.</summary>
    public Task<Metadata> ResponseHeadersAsync => _call.ResponseHeadersAsync;

    /// <summary>The final status, once the call has finished.</summary>
    /// <exception cref="InvalidOperationException">The call has not finished.</exception>
    public GrpcStatus GetStatus() => _call.GetStatus();

    /// <summary>The trailers, once the call has finished.</summary>
    /// <exception cref="InvalidOperationException">The call has not finished.</exception>
    public Metadata GetTrailers() => _call.GetTrailers();

    /// <summary>Cancels the call if it is still running and releases it.</summary>
    public void Dispose()
    {
        _call.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A unary call in flight, for callers that want its response metadata; awaitable for the response.</summary>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class AsyncUnaryCall<TResponse> : AsyncCall
{
    internal AsyncUnaryCall(IClientCall call, Task<TResponse> responseAsync)
        : base(call)
    {
        ResponseAsync = responseAsync;
    }

    /// <summary>The response; faults with <see cref="RpcException"/> when the call fails.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>Allows <c>await call</c>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A server-streaming call in flight.</summary>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class AsyncServerStreamingCall<TResponse> : AsyncCall
{
    internal AsyncServerStreamingCall(IClientCall call, IAsyncStreamReader<TResponse> responseStream)
        : base(call)
    {
        ResponseStream = responseStream;
    }

    /// <summary>The responses; reading past the last one throws <see cref="RpcException"/> if the call failed.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

}

/// <summary>A client-streaming call in flight.</summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class AsyncClientStreamingCall<TRequest, TResponse> : AsyncCall
{
    internal AsyncClientStreamingCall(IClientCall call, IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync)
        : base(call)
    {
        RequestStream = requestStream;
        ResponseAsync = responseAsync;
    }

    /// <summary>The requests; complete it to let the server answer.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The response; faults with <see cref="RpcException"/> when the call fails.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>Allows <c>await call</c>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A bidirectional call in flight.</summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : AsyncCall
{
    internal AsyncDuplexStreamingCall(IClientCall call, IClientStreamWriter<TRequest> requestStream, IAsyncStreamReader<TResponse> responseStream)
        : base(call)
    {
        RequestStream = requestStream;
        ResponseStream = responseStream;
    }

    /// <summary>The requests.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The responses; reading past the last one throws <see cref="RpcException"/> if the call failed.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

}

/// <summary>The response stream of a client call.</summary>
internal sealed class ClientResponseStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public TResponse Current { get; private set; } = null!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        TResponse? message = await call.ReadMessageAsync(cancellationToken).ConfigureAwait(false);
        if (message is null)
        {
            return false;
        }

        Current = message;
        return true;
    }

    public async IAsyncEnumerator<TResponse> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return Current;
        }
    }
}

/// <summary>The request stream of a client call.</summary>
internal sealed class ClientRequestStream<TRequest, TResponse>(ClientCall<TRequest, TResponse> call) : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public Task WriteAsync(TRequest message, CancellationToken cancellationToken = default) => call.WriteAsync(message, cancellationToken);

    public Task CompleteAsync() => call.CompleteRequestAsync();
}
