using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CurpStore.Rpc;

/// <summary>
/// One call in flight on the server: the HTTP/2 stream, the handler's cancellation, and the write side. Writes of
/// headers, messages and the final status go through one lock, so a deadline that fires while the handler writes
/// cannot interleave trailers with a half-written message, and nothing is written after the status.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationTokenRegistration _stoppingRegistration;
    private Timer? _deadlineTimer;
    private bool _headersSent;
    private bool _completed;
    private volatile bool _deadlineExceeded;

    public ServerCall(HttpContext http, GrpcServerOptions options, CancellationToken serverStopping)
    {
        Http = http;
        Options = options;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        _stoppingRegistration = serverStopping.Register(static state => ((ServerCall)state!).Cancel(), this);
    }

    public HttpContext Http { get; }

    public GrpcServerOptions Options { get; }

    public ServerCallContext Context { get; set; } = null!;

    public CancellationToken CancellationToken => _cancellation.Token;

    public bool DeadlineExceeded => _deadlineExceeded;

    /// <summary>
    /// Arms the deadline: when it passes, the handler's token is cancelled and DEADLINE_EXCEEDED is sent at once,
    /// even if the handler has not returned yet.
    /// </summary>
    public void StartDeadline(TimeSpan timeout)
    {
        // Timer periods above ~49 days are not supported; such deadlines never fire in practice.
        if (timeout > TimeSpan.FromDays(49))
        {
            return;
        }

        _deadlineTimer = new Timer(static state => ((ServerCall)state!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public async ValueTask<TRequest> ReadSingleRequestAsync<TRequest>(MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
    {
        TRequest? request = await ReadRequestAsync(parser, CancellationToken).ConfigureAwait(false);
        // grpc-go's server answers a unary or server-streaming call whose request stream ends before any message so.
        return request ?? throw new RpcException(GrpcStatusCode.Unknown, "EOF");
    }

    public async ValueTask<TRequest?> ReadRequestAsync<TRequest>(MessageParser<TRequest> parser, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
    {
        PipeReader body = Http.Request.BodyReader;
        try
        {
            return await MessageFraming.ReadAsync(body, parser, Options.MaxReceiveMessageSize, readingRequests: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException && e is not OperationCanceledException && CancellationToken.IsCancellationRequested)
        {
            // The client reset the stream: report it as the cancellation it is.
            throw new OperationCanceledException("The call was cancelled while reading the request stream.", e, CancellationToken);
        }
    }

    public async Task WriteHeadersAsync(Metadata headers)
    {
        await _writeLock.WaitAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("The call is complete; no more headers can be sent.");
            }

            if (_headersSent)
            {
                throw new InvalidOperationException("Response headers can be sent only once per call.");
            }

            ApplyHeaders(headers);
            await Http.Response.StartAsync(CancellationToken).ConfigureAwait(false);
            await Http.Response.BodyWriter.FlushAsync(CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task WriteMessageAsync(IMessage message, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled && cancellationToken != CancellationToken
            ? CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, cancellationToken)
            : null;
        CancellationToken token = linked?.Token ?? CancellationToken;
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("The call is complete; no more messages can be written.");
            }

            token.ThrowIfCancellationRequested();
            int size = MessageFraming.CheckSendSize(message, Options.MaxSendMessageSize); // before anything is sent
            if (!_headersSent)
            {
                ApplyHeaders(null);
            }

            PipeWriter writer = Http.Response.BodyWriter;
            MessageFraming.Write(writer, message, size);

            FlushResult flush = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flush.IsCanceled)
            {
                throw new OperationCanceledException(token);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Ends the call with a status: in trailers after headers/messages, or as a trailers-only response (one HEADERS
    /// frame with END_STREAM) when nothing was sent yet. Only the first completion counts.
    /// </summary>
    public async Task CompleteAsync(GrpcStatusCode code, string detail, Metadata? trailers)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (Http.RequestAborted.IsCancellationRequested)
            {
                return; // the stream is gone; nothing can reach the client
            }

            HttpResponse response = Http.Response;
            bool trailersOnly = !_headersSent && !response.HasStarted;
            if (trailersOnly)
            {
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = GrpcProtocol.ContentType;
                response.Headers[GrpcProtocol.StatusHeader] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(detail);
                foreach (Metadata.Entry entry in trailers ?? [])
                {
                    response.Headers.Append(entry.Key, Metadata.ToWireValue(entry));
                }
            }
            else
            {
                response.AppendTrailer(GrpcProtocol.StatusHeader, ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));
                response.AppendTrailer(GrpcProtocol.MessageHeader, GrpcProtocol.EncodeMessage(detail));
                foreach (Metadata.Entry entry in trailers ?? [])
                {
                    response.AppendTrailer(entry.Key, Metadata.ToWireValue(entry));
                }
            }

            await response.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception) when (Http.RequestAborted.IsCancellationRequested)
        {
            // The client went away while the status was being written.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _deadlineTimer?.Dispose();
        _stoppingRegistration.Dispose();
        _cancellation.Dispose();
    }

    private void ApplyHeaders(Metadata? headers)
    {
        HttpResponse response = Http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        foreach (Metadata.Entry entry in headers ?? [])
        {
            response.Headers.Append(entry.Key, Metadata.ToWireValue(entry));
        }

        _headersSent = true;
    }

    private void OnDeadline()
    {
        _deadlineExceeded = true;
        Cancel(); // a handler blocked in a write lets go of the write lock here
        _ = SendDeadlineExceededAsync();
    }

    private async Task SendDeadlineExceededAsync()
    {
        try
        {
            await CompleteAsync(GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail, null).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The stream could not take the status; Kestrel resets it and the client's own deadline answers.
        }
    }

    private void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished concurrently.
        }
    }
}
