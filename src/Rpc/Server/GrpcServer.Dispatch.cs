using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace CurpStore.Rpc;

/// <summary>
/// Request dispatch: validates a request the way grpc-go does (same HTTP statuses, status codes and messages, so
/// clients and tools see the answers they know), finds the method, runs the handler under the call's deadline and
/// turns its outcome into the status.
/// </summary>
public sealed partial class GrpcServer
{
    private async Task HandleAsync(HttpContext http)
    {
        HttpRequest request = http.Request;
        if (HttpMethods.IsGet(request.Method) && _httpGets.TryGetValue(request.Path.Value ?? string.Empty, out var get))
        {
            HttpGetResponse answer = await get(http.RequestAborted).ConfigureAwait(false);
            http.Response.StatusCode = answer.StatusCode;
            http.Response.ContentType = answer.ContentType;
            await http.Response.WriteAsync(answer.Body, http.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            // Unreachable through our HTTP/2-only endpoints; kept so that no HTTP/1 request is ever served as gRPC.
            http.Response.StatusCode = StatusCodes.Status505HttpVersionNotsupported;
            await http.Response.WriteAsync("gRPC requires HTTP/2").ConfigureAwait(false);
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            await AbortEarlyAsync(http, StatusCodes.Status415UnsupportedMediaType, GrpcStatusCode.InvalidArgument,
                $"invalid gRPC request content-type \"{request.ContentType}\"").ConfigureAwait(false);
            return;
        }

        TimeSpan? timeout = null;
        if (request.Headers.TryGetValue(GrpcProtocol.TimeoutHeader, out StringValues timeoutValue))
        {
            if (!GrpcProtocol.TryDecodeTimeout(timeoutValue.ToString(), out TimeSpan parsed, out string error))
            {
                await AbortEarlyAsync(http, StatusCodes.Status400BadRequest, GrpcStatusCode.Internal, $"malformed grpc-timeout: {error}").ConfigureAwait(false);
                return;
            }

            timeout = parsed;
        }

        var requestHeaders = new Metadata();
        foreach (KeyValuePair<string, StringValues> header in request.Headers)
        {
            if (!Metadata.IsExposedHeader(header.Key))
            {
                continue;
            }

            foreach (string? value in header.Value)
            {
                try
                {
                    requestHeaders.AddFromWire(header.Key, value ?? string.Empty);
                }
                catch (FormatException e)
                {
                    await AbortEarlyAsync(http, StatusCodes.Status400BadRequest, GrpcStatusCode.Internal,
                        $"header \"{header.Key.ToLowerInvariant()}\": {e.Message}").ConfigureAwait(false);
                    return;
                }
            }
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await AbortEarlyAsync(http, StatusCodes.Status405MethodNotAllowed, GrpcStatusCode.Internal,
                $"http2Server.operateHeaders parsed a :method field: {request.Method} which should be POST").ConfigureAwait(false);
            return;
        }

        // The raw target, not the decoded PathBase/Path split, is what the client named.
        string path = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? string.Empty;
        if (!_methods.TryGetValue(path, out ServerMethodHandler? handler))
        {
            await AbortEarlyAsync(http, StatusCodes.Status200OK, GrpcStatusCode.Unimplemented, DescribeUnknownMethod(path)).ConfigureAwait(false);
            return;
        }

        string? encoding = request.Headers[GrpcProtocol.EncodingHeader];
        if (!string.IsNullOrEmpty(encoding) && encoding != "identity")
        {
            await AbortEarlyAsync(http, StatusCodes.Status200OK, GrpcStatusCode.Unimplemented,
                $"grpc: Decompressor is not installed for grpc-encoding \"{encoding}\"").ConfigureAwait(false);
            return;
        }

        if (_options.CallLimit is not { } limit || !limit.Covers(path))
        {
            await RunCallAsync(http, path, handler, timeout, requestHeaders).ConfigureAwait(false);
            return;
        }

        long waitStarted = Stopwatch.GetTimestamp();
        switch (await limit.EnterAsync(timeout, http.RequestAborted).ConfigureAwait(false))
        {
            case CallLimit.Admission.Admitted:
                break;
            case CallLimit.Admission.Refused:
                await AnswerUnreadAsync(http, limit.Refusal.StatusCode, limit.Refusal.Detail).ConfigureAwait(false);
                return;
            case CallLimit.Admission.DeadlineExceeded:
                await AnswerUnreadAsync(http, GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail).ConfigureAwait(false);
                return;
            default:
                return;
        }

        try
        {
            // The call's timeout runs from its arrival: the time it waited for a place is already spent.
            TimeSpan? remaining = timeout - Stopwatch.GetElapsedTime(waitStarted);
            await RunCallAsync(http, path, handler, remaining is { Ticks: < 0 } ? TimeSpan.Zero : remaining, requestHeaders).ConfigureAwait(false);
        }
        finally
        {
            limit.Exit();
        }
    }

    /// <summary>Answers a call whose request was not read (a trailers-only response), once its body is skipped.</summary>
    private async Task AnswerUnreadAsync(HttpContext http, GrpcStatusCode code, string detail)
    {
        if (await SkipRequestBodyAsync(http).ConfigureAwait(false))
        {
            await AbortEarlyAsync(http, StatusCodes.Status200OK, code, detail).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads a refused call's request body to its end without decoding it, at most one largest message, so that the
    /// answer closes the stream in order instead of Kestrel resetting it (RST_STREAM) behind the answer while the body
    /// is still arriving. A longer body is left to that reset. Returns false when the client reset the call meanwhile:
    /// there is no one left to answer.
    /// </summary>
    private async Task<bool> SkipRequestBodyAsync(HttpContext http)
    {
        PipeReader body = http.Request.BodyReader;
        long skippedBytes = 0;
        try
        {
            while (skippedBytes <= _options.MaxReceiveMessageSize + MessageFraming.PrefixSize)
            {
                ReadResult read = await body.ReadAsync(http.RequestAborted).ConfigureAwait(false);
                skippedBytes += read.Buffer.Length;
                body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }

        return true;
    }

    private async Task RunCallAsync(HttpContext http, string path, ServerMethodHandler handler, TimeSpan? timeout, Metadata requestHeaders)
    {
        using var call = new ServerCall(http, _options, _stopping.Token);
        DateTime deadline = timeout is { } t ? (t >= DateTime.MaxValue - DateTime.UtcNow ? DateTime.MaxValue : DateTime.UtcNow + t) : DateTime.MaxValue;
        call.Context = new ServerCallContext(
            call,
            path,
            http.Request.Host.Value ?? string.Empty,
            ServerCallContext.FormatPeer(http.Connection.RemoteIpAddress, http.Connection.RemotePort),
            deadline,
            requestHeaders,
            http.Connection.ClientCertificate);
        if (timeout is { } callTimeout)
        {
            call.StartDeadline(callTimeout);
        }

        GrpcStatusCode code = GrpcStatusCode.OK;
        string detail = string.Empty;
        Metadata trailers = call.Context.ResponseTrailers;
        try
        {
            await handler.InvokeAsync(call).ConfigureAwait(false);
        }
        catch (Exception) when (call.DeadlineExceeded)
        {
            (code, detail) = (GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail);
        }
        catch (RpcException e)
        {
            (code, detail) = (e.StatusCode, e.Detail);
            foreach (Metadata.Entry entry in e.Trailers)
            {
                trailers = Append(trailers, entry);
            }
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            (code, detail) = (GrpcStatusCode.Cancelled, "The client cancelled the call.");
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            (code, detail) = (GrpcStatusCode.Unavailable, "The server is shutting down.");
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The handler of {Method} threw", path);
            (code, detail) = (GrpcStatusCode.Unknown, _options.EnableDetailedErrors
                ? $"Exception was thrown by handler. {e.GetType().Name}: {e.Message}"
                : "Exception was thrown by handler.");
        }

        if (call.DeadlineExceeded)
        {
            (code, detail) = (GrpcStatusCode.DeadlineExceeded, GrpcProtocol.DeadlineExceededDetail); // already sent by the deadline timer
        }

        await call.CompleteAsync(code, detail, trailers).ConfigureAwait(false);
    }

    private static Metadata Append(Metadata trailers, Metadata.Entry entry)
    {
        if (entry.IsBinary)
        {
            trailers.Add(entry.Key, entry.ValueBytes!);
        }
        else
        {
            trailers.Add(entry.Key, entry.Value!);
        }

        return trailers;
    }

    /// <summary>grpc-go's wording, which etcd clients and tools print as they are.</summary>
    private string DescribeUnknownMethod(string path)
    {
        string name = path.StartsWith('/') ? path[1..] : path;
        int slash = name.LastIndexOf('/');
        if (slash < 0)
        {
            return $"malformed method name: \"{path}\"";
        }

        string service = name[..slash];
        string method = name[(slash + 1)..];
        return _services.Contains(service) ? $"unknown method {method} for service {service}" : $"unknown service {service}";
    }

    /// <summary>
    /// Answers a call that cannot start with a trailers-only response: one HEADERS frame carrying the HTTP status,
    /// the gRPC content type, <c>grpc-status</c> and <c>grpc-message</c>, with END_STREAM.
    /// </summary>
    private static Task AbortEarlyAsync(HttpContext http, int httpStatus, GrpcStatusCode code, string message)
    {
        HttpResponse response = http.Response;
        response.StatusCode = httpStatus;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.StatusHeader] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(message);
        return response.CompleteAsync();
    }
}
