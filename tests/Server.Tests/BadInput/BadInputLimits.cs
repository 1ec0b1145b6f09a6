using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CurpStore.Server.Tests.BadInput;

/// <summary>The answers and bounds the catalogue tests expect where they are not etcd's own strings, and raw-socket
/// helpers.</summary>
internal static class BadInputLimits
{
    public const string TooDeepMessage = "grpc: error unmarshalling request: Protocol message had too many levels of nesting.  May be malicious.  "
        + "Use CodedInputStream.SetRecursionLimit() to increase the depth limit.";

    public const string TruncatedMessage = "grpc: error unmarshalling request: While parsing a protocol message, the input ended unexpectedly in the "
        + "middle of a field.  This could mean either that the input has been truncated or that an embedded message misreported its own length.";

    /// <summary>The start of Kestrel's answer to bytes that are not HTTP/2 on an HTTP/2-only endpoint.</summary>
    public const string Http11Refusal = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 56\r\n\r\n"
        + "An HTTP/1.x request was sent to an HTTP/2 only endpoint.";

    public static readonly byte[] Http2Preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];

    private static readonly TimeSpan ReadLimit = TimeSpan.FromSeconds(20);

    /// <summary>Sends <paramref name="bytes"/> on a new connection and returns what comes back until the server closes
    /// it (bounded).</summary>
    public static async Task<string> SendRawAsync(Uri endpoint, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, endpoint.Port));
        await socket.SendAsync(bytes);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var limit = new CancellationTokenSource(ReadLimit);
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, limit.Token);
            }
            catch (SocketException)
            {
                break; // reset after the answer
            }
            if (read == 0)
            {
                break;
            }
            received.Write(buffer, 0, read);
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>Whether the server closed <paramref name="socket"/> instead of answering the HTTP/2 preface with its
    /// SETTINGS (bounded wait).</summary>
    public static async Task<bool> IsClosedByServerAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var limit = new CancellationTokenSource(ReadLimit);
        try
        {
            return await socket.ReceiveAsync(buffer, limit.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Retries <paramref name="check"/> for a bounded time: a flood's connections may take a moment to be
    /// released after the client closes them.</summary>
    public static async Task EventuallyAsync(Func<Task> check)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await check();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
