using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace CurpStore.Rpc;

/// <summary>What the public call wrappers need from a call, whatever its message types.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    GrpcStatus GetStatus();

    Metadata GetTrailers();
}

/// <summary>
/// One client call over one HTTP/2 stream: sends the request headers (with <c>grpc-timeout</c> and metadata) and
/// messages, reads the response headers, messages and trailers, and turns every outcome into a status: the server's
/// <c>grpc-status</c>, or a transport failure, deadline or cancellation mapped as gRPC's clients map them. The first
/// status recorded is final; any failure cancels the HTTP/2 stream (RST_STREAM), so nothing is left running.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientCall
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cancellation;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly object _statusLock = new();
    private Timer? _deadlineTimer;
    private PushStreamContent? _requestContent;
    private HttpResponseMessage? _response;
    private PipeReader? _responseReader;
    private GrpcStatus? _status;
    private Metadata _trailers = new();
    private volatile bool _deadlineExceeded;
    private volatile bool _cancelledByClient;
    private bool _requestCompleted;
    private bool _holdsCallSlot;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        ResponseHeadersAsync = null!;
    }

    public Task<Metadata> ResponseHeadersAsync { get; private set; }

    /// <summary>Starts the call; <paramref name="request"/> is the single request, or null for a request stream.</summary>
    public void Start(TRequest? request)
    {
        if (!_channel.TryAcquireCall())
        {
            ResponseHeadersAsync = Task.FromException<Metadata>(Finish(new GrpcStatus(
                GrpcStatusCode.ResourceExhausted,
                $"grpc: the channel already has {_channel.Options.MaxConcurrentCalls} calls in flight (GrpcChannelOptions.MaxConcurrentCalls)"), null));
            _ = ResponseHeadersAsync.Exception;
            return;
        }

        _holdsCallSlot = true;
        TimeSpan? timeout = null;
        if (_options.Deadline is { } deadline)
        {
            timeout = deadline.ToUniversalTime() - DateTime.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                // grpc-go fails such calls without sending anything.
                _deadlineExceeded = true;
                ResponseHeadersAsync = Task.FromException<Metadata>(Finish(new GrpcStatus(GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail), null));
                _ = ResponseHeadersAsync.Exception; // observed: the wrappers surface it
                return;
            }
        }

        HttpContent content;
        try
        {
            content = request is null ? (_requestContent = new PushStreamContent()) : CreateUnaryContent(request);
        }
        catch (RpcException e)
        {
            ResponseHeadersAsync = Task.FromException<Metadata>(Finish(e.Status, null));
            _ = ResponseHeadersAsync.Exception;
            return;
        }

        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        message.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        message.Headers.TryAddWithoutValidation("user-agent", GrpcProtocol.UserAgent);
        if (timeout is { } t)
        {
            message.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.EncodeTimeout(t));
            if (t < TimeSpan.FromDays(49))
            {
                _deadlineTimer = new Timer(static state => ((ClientCall<TRequest, TResponse>)state!).OnDeadline(), this, t, Timeout.InfiniteTimeSpan);
            }
        }

        foreach (Metadata.Entry entry in _options.Headers ?? [])
        {
            message.Headers.TryAddWithoutValidation(entry.Key, Metadata.ToWireValue(entry));
        }

        _cancellation.Token.Register(static state => ((ClientCall<TRequest, TResponse>)state!).OnCancelled(), this);
        Task<HttpResponseMessage> send = _channel.Invoker.SendAsync(message, _cancellation.Token);
        ResponseHeadersAsync = ReceiveHeadersAsync(send);
    }

    /// <summary>Reads the next response message; null once the call ended with OK.</summary>
    /// <exception cref="RpcException">The call ended with another status.</exception>
    public async Task<TResponse?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        await ResponseHeadersAsync.ConfigureAwait(false);
        if (_status is { } finished)
        {
            return finished.StatusCode == GrpcStatusCode.OK ? null : throw new RpcException(finished.StatusCode, finished.Detail, _trailers);
        }

        TResponse? message;
        using (cancellationToken.Register(static state => ((ClientCall<TRequest, TResponse>)state!).Cancel(), this))
        {
            try
            {
                message = await MessageFraming.ReadAsync(_responseReader!, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, readingRequests: false, _cancellation.Token)
                    .ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw Fail(e);
            }
        }

        if (message is not null)
        {
            return message;
        }

        GrpcStatus status = ReadTrailers();
        return status.StatusCode == GrpcStatusCode.OK ? null : throw new RpcException(status.StatusCode, status.Detail, _trailers);
    }

    /// <summary>Reads the one response of a unary or client-streaming call, and the status after it.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        TResponse? response = await ReadMessageAsync(CancellationToken.None).ConfigureAwait(false)
            ?? throw Finish(new GrpcStatus(GrpcStatusCode.Internal, "grpc: the server ended the call with OK but sent no response message"), null);
        if (await ReadMessageAsync(CancellationToken.None).ConfigureAwait(false) is not null)
        {
            throw Finish(new GrpcStatus(GrpcStatusCode.Internal, "grpc: the server sent more than one response message for a single-response call"), null);
        }

        return response;
    }

    /// <summary>Writes one request message to the request stream.</summary>
    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        PushStreamContent content = _requestContent ?? throw new InvalidOperationException("This call has no request stream.");
        (byte[] buffer, int length) = MessageFraming.ToRentedArray(message, _channel.Options.MaxSendMessageSize);
        try
        {
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(_cancellation.Token, cancellationToken);
            await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                if (_requestCompleted)
                {
                    throw new InvalidOperationException("The request stream was already completed.");
                }

                if (_status is { } finished)
                {
                    throw finished.StatusCode == GrpcStatusCode.OK
                        ? new InvalidOperationException("The call is complete; no more messages can be written.")
                        : new RpcException(finished.StatusCode, finished.Detail, _trailers);
                }

                Stream stream = await content.GetStreamAsync(linked.Token).ConfigureAwait(false);
                await stream.WriteAsync(buffer.AsMemory(0, length), linked.Token).ConfigureAwait(false);
                await stream.FlushAsync(linked.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (OperationCanceledException e)
        {
            // A write cancelled half-way leaves a partial message on the stream: the whole call must end.
            throw Fail(e);
        }
        catch (Exception e) when (e is ObjectDisposedException || (e is not InvalidOperationException and not RpcException))
        {
            // ObjectDisposedException derives from InvalidOperationException but is no misuse of this call: HttpClient
            // disposes the request stream when the connection under it breaks, so it is a transport failure too.
            // As in grpc-go, a failed send does not decide the call's status: the response side reports the
            // server's status (for example RESOURCE_EXHAUSTED for a message it refused) once it arrives.
            if (_status is { } finished)
            {
                throw new RpcException(finished.StatusCode, finished.Detail, _trailers, e);
            }

            GrpcStatus failure = MapException(e);
            throw new RpcException(failure.StatusCode, failure.Detail, innerException: e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Ends the request stream after the writes in flight.</summary>
    public async Task CompleteRequestAsync()
    {
        PushStreamContent content = _requestContent ?? throw new InvalidOperationException("This call has no request stream.");
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _requestCompleted = true;
            content.Complete();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public GrpcStatus GetStatus() => _status ?? throw new InvalidOperationException("The status is known only once the call has finished.");

    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("Trailers are known only once the call has finished.") : _trailers;

    public void Dispose()
    {
        if (_status is null)
        {
            _cancelledByClient = true;
            Finish(new GrpcStatus(GrpcStatusCode.Cancelled, "Call canceled by the client."), null);
        }

        _deadlineTimer?.Dispose();
        _cancellation.Dispose(); // unregisters from the caller's token
    }

    private ByteArrayContent CreateUnaryContent(TRequest request)
    {
        var content = new ByteArrayContent(MessageFraming.ToArray(request, _channel.Options.MaxSendMessageSize));
        content.Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
        return content;
    }

    private async Task<Metadata> ReceiveHeadersAsync(Task<HttpResponseMessage> send)
    {
        HttpResponseMessage response;
        try
        {
            response = await send.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw Fail(e);
        }

        _response = response;
        if (_status is { } early)
        {
            // Cancelled or timed out while the headers were on their way.
            response.Dispose();
            throw new RpcException(early.StatusCode, early.Detail, _trailers);
        }

        var headers = new Metadata();
        AddMetadata(headers, response.Headers);
        string? grpcStatus = FirstValue(response.Headers, GrpcProtocol.StatusHeader);
        string? grpcMessage = FirstValue(response.Headers, GrpcProtocol.MessageHeader);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            string suffix = grpcMessage is null ? string.Empty : $" (grpc-message: {GrpcProtocol.DecodeMessage(grpcMessage)})";
            throw Finish(new GrpcStatus(GrpcProtocol.FromHttpStatus(response.StatusCode), $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}{suffix}"), null);
        }

        string? contentType = response.Content.Headers.ContentType?.ToString();
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            throw Finish(new GrpcStatus(GrpcStatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}"), null);
        }

        if (grpcStatus is not null)
        {
            // Trailers-only: the status came with the headers and there is no body; the metadata are trailers.
            Finish(ParseStatus(grpcStatus, grpcMessage), headers);
            return new Metadata();
        }

        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(_cancellation.Token).ConfigureAwait(false);
            _responseReader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: false));
        }
        catch (Exception e)
        {
            throw Fail(e);
        }

        return headers;
    }

    private GrpcStatus ReadTrailers()
    {
        HttpResponseHeaders trailers = _response!.TrailingHeaders;
        string? grpcStatus = FirstValue(trailers, GrpcProtocol.StatusHeader);
        var metadata = new Metadata();
        AddMetadata(metadata, trailers);
        GrpcStatus status = grpcStatus is null
            ? new GrpcStatus(GrpcStatusCode.Internal, "grpc: the server closed the stream without sending a grpc-status trailer")
            : ParseStatus(grpcStatus, FirstValue(trailers, GrpcProtocol.MessageHeader));
        Finish(status, metadata);
        return _status!.Value;
    }

    private static GrpcStatus ParseStatus(string grpcStatus, string? grpcMessage) =>
        int.TryParse(grpcStatus, NumberStyles.None, CultureInfo.InvariantCulture, out int code)
            ? new GrpcStatus((GrpcStatusCode)code, GrpcProtocol.DecodeMessage(grpcMessage))
            : new GrpcStatus(GrpcStatusCode.Internal, $"transport: malformed grpc-status: \"{grpcStatus}\"");

    /// <summary>Records the final status (the first one wins), releases the stream, and returns the matching exception.</summary>
    private RpcException Finish(GrpcStatus status, Metadata? trailers)
    {
        bool first;
        lock (_statusLock)
        {
            first = _status is null;
            if (first)
            {
                _status = status;
                _trailers = trailers ?? new Metadata();
            }
        }

        if (first)
        {
            if (_holdsCallSlot)
            {
                _channel.ReleaseCall();
            }

            _deadlineTimer?.Dispose();
            bool ok = status.StatusCode == GrpcStatusCode.OK;
            if (!ok)
            {
                Cancel(); // resets the HTTP/2 stream if it is still open, before the request body could end gracefully
            }

            _requestContent?.Finish(graceful: ok, ok
                ? new InvalidOperationException("The call is complete; no more messages can be written.")
                : new RpcException(status.StatusCode, status.Detail, _trailers));
            if (ok)
            {
                _response?.Dispose();
            }
        }

        GrpcStatus final = _status!.Value;
        return new RpcException(final.StatusCode, final.Detail, _trailers);
    }

    private RpcException Fail(Exception error)
    {
        if (error is RpcException rpc)
        {
            return Finish(rpc.Status, rpc.Trailers);
        }

        return Finish(MapException(error), null);
    }

    /// <summary>How gRPC clients report a call that failed below the gRPC layer.</summary>
    private GrpcStatus MapException(Exception error)
    {
        if (_deadlineExceeded)
        {
            return new GrpcStatus(GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail);
        }

        if (_cancelledByClient || _options.CancellationToken.IsCancellationRequested || error is OperationCanceledException)
        {
            return new GrpcStatus(GrpcStatusCode.Cancelled, "Call canceled by the client.");
        }

        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocol)
            {
                return new GrpcStatus(GrpcProtocol.FromHttp2ErrorCode(protocol.ErrorCode), $"HTTP/2 error {protocol.ErrorCode}: {protocol.Message}");
            }
        }

        return error switch
        {
            ObjectDisposedException => new GrpcStatus(GrpcStatusCode.Unavailable, "The channel was disposed."),
            HttpRequestException or IOException => new GrpcStatus(GrpcStatusCode.Unavailable, $"Error connecting or talking to the server: {error.Message}"),
            _ => new GrpcStatus(GrpcStatusCode.Unknown, $"{error.GetType().Name}: {error.Message}"),
        };
    }

    private void OnDeadline()
    {
        _deadlineExceeded = true;
        Finish(new GrpcStatus(GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail), null);
    }

    private void OnCancelled()
    {
        if (!_deadlineExceeded)
        {
            _cancelledByClient = true;
            Finish(new GrpcStatus(GrpcStatusCode.Cancelled, "Call canceled by the client."), null);
        }

        _response?.Dispose();
    }

    private void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already released.
        }
    }

    private static string? FirstValue(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    private static void AddMetadata(Metadata metadata, HttpHeaders headers)
    {
        foreach (KeyValuePair<string, IEnumerable<string>> header in headers)
        {
            if (!Metadata.IsExposedHeader(header.Key))
            {
                continue;
            }

            foreach (string value in header.Value)
            {
                try
                {
                    metadata.AddFromWire(header.Key, value);
                }
                catch (FormatException)
                {
                    // A malformed binary header from the server is dropped rather than failing the call.
                }
            }
        }
    }
}
