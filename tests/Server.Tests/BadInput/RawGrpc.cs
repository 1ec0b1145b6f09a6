using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using CurpStore.Rpc;
using Google.Protobuf;

namespace CurpStore.Server.Tests.BadInput;

/// <summary>What a raw gRPC request got back: the HTTP status, grpc-status and grpc-message (from the trailers, or
/// from the headers of a trailers-only answer; null when neither had one) and the response body bytes.</summary>
internal sealed record RawGrpcAnswer(HttpStatusCode HttpStatus, GrpcStatusCode? Code, string? Message, byte[] Body);

/// <summary>Sends hand-made HTTP/2 requests (any body bytes, headers, method) to a member, where the project's gRPC
/// client would only send well-formed calls. Every request is bounded: a server that never answers fails the test.</summary>
internal sealed class RawGrpc : IDisposable
{
    public static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(30);

    private readonly HttpClient http;

    public RawGrpc(Uri endpoint)
    {
        http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            BaseAddress = endpoint,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>One length-prefixed message: flag 0 and the message's real length.</summary>
    public static byte[] Frame(IMessage message) => Frame(0, message.ToByteArray());

    public static byte[] Frame(byte flag, byte[] body, uint? claimedLength = null)
    {
        var frame = new byte[5 + body.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), claimedLength ?? (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>POSTs <paramref name="body"/> as-is to <paramref name="path"/> with gRPC's headers (or
    /// <paramref name="contentType"/>), with grpc-timeout <paramref name="timeout"/> when given.</summary>
    public async Task<RawGrpcAnswer> SendAsync(string path, byte[] body, string contentType = "application/grpc", TimeSpan? timeout = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        if (method is null || method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            request.Headers.TryAddWithoutValidation("grpc-timeout", $"{(long)Math.Ceiling(t.TotalMilliseconds)}m");
        }
        using var limit = new CancellationTokenSource(CallLimit);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
        var bytes = await response.Content.ReadAsByteArrayAsync(limit.Token);
        var (code, message) = Status(response.TrailingHeaders);
        if (code is null)
        {
            (code, message) = Status(response.Headers);
        }
        return new RawGrpcAnswer(response.StatusCode, code, message, bytes);
    }

    private static (GrpcStatusCode?, string?) Status(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var status))
        {
            return (null, null);
        }
        var message = headers.TryGetValues("grpc-message", out var text) ? Uri.UnescapeDataString(text.First()) : string.Empty;
        return ((GrpcStatusCode)int.Parse(status.First(), CultureInfo.InvariantCulture), message);
    }

    public void Dispose() => http.Dispose();
}
