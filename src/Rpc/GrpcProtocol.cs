using System.Globalization;
using System.Net;
using System.Text;

namespace CurpStore.Rpc;

/// <summary>
/// The pieces of gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md) shared by client and server: header names, the
/// content type, <c>grpc-timeout</c> and <c>grpc-message</c> encodings, and how HTTP outcomes map to status codes.
/// </summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string TimeoutHeader = "grpc-timeout";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string EncodingHeader = "grpc-encoding";
    public const string UserAgent = "grpc-curpstore-dotnet/1.0";

    /// <summary>The status detail of a call whose deadline passed (grpc-dotnet's wording).</summary>
    public const string DeadlineExceededDetail = "Deadline Exceeded";

    /// <summary>The largest value <c>grpc-timeout</c> may carry: at most 8 ASCII digits.</summary>
    private const long MaxTimeoutValue = 99_999_999;

    /// <summary>
    /// Whether a content type is gRPC's: exactly <c>application/grpc</c>, or followed by <c>+subtype</c> or
    /// <c>;parameters</c> (what grpc-go's ContentSubtype accepts).
    /// </summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';';
    }

    /// <summary>
    /// Encodes a timeout as <c>grpc-timeout</c>: up to 8 digits and a unit, choosing the finest unit that fits and
    /// rounding up, so the server never sees a shorter deadline than the client's.
    /// </summary>
    public static string EncodeTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "0n";
        }

        long ticks = timeout.Ticks; // 100 ns
        ReadOnlySpan<(long TicksPerUnit, char Unit)> units =
            [(TimeSpan.TicksPerMicrosecond, 'u'), (TimeSpan.TicksPerMillisecond, 'm'), (TimeSpan.TicksPerSecond, 'S'), (TimeSpan.TicksPerMinute, 'M'), (TimeSpan.TicksPerHour, 'H')];
        if (ticks <= MaxTimeoutValue / 100)
        {
            return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        }

        foreach ((long ticksPerUnit, char unit) in units)
        {
            long value = (ticks + ticksPerUnit - 1) / ticksPerUnit;
            if (value <= MaxTimeoutValue)
            {
                return value.ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxTimeoutValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>
    /// Parses <c>grpc-timeout</c>: 1 to 8 ASCII digits followed by H, M, S, m, u or n (grpc-go's rules), rounding
    /// up to whole 100 ns ticks.
    /// </summary>
    public static bool TryDecodeTimeout(string value, out TimeSpan timeout, out string error)
    {
        timeout = default;
        error = string.Empty;
        if (value.Length < 2)
        {
            error = $"timeout string is too short: \"{value}\"";
            return false;
        }

        if (value.Length > 9)
        {
            error = $"timeout string is too long: \"{value}\"";
            return false;
        }

        long nanosecondsPerUnit = value[^1] switch
        {
            'H' => 3_600_000_000_000,
            'M' => 60_000_000_000,
            'S' => 1_000_000_000,
            'm' => 1_000_000,
            'u' => 1_000,
            'n' => 1,
            _ => 0,
        };
        if (nanosecondsPerUnit == 0)
        {
            error = $"timeout unit is not recognized: \"{value}\"";
            return false;
        }

        long amount = 0;
        foreach (char c in value.AsSpan(0, value.Length - 1))
        {
            if (c is < '0' or > '9')
            {
                error = $"timeout value is not a number: \"{value}\"";
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        // 8 digits of hours in nanoseconds overflow a long; in ticks they fit (about 11,000 years).
        decimal ticks = amount * (decimal)nanosecondsPerUnit / 100;
        timeout = ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)Math.Ceiling(ticks));
        return true;
    }

    /// <summary>
    /// Percent-encodes a status message for <c>grpc-message</c>: UTF-8 bytes outside printable ASCII, and '%',
    /// become %XX, so any text survives an ASCII-only header.
    /// </summary>
    public static string EncodeMessage(string message)
    {
        bool plain = true;
        foreach (char c in message)
        {
            if (c is < ' ' or > '~' or '%')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return message;
        }

        var builder = new StringBuilder(message.Length * 2);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            if (b is < (byte)' ' or > (byte)'~' or (byte)'%')
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }

        return builder.ToString();
    }

    /// <summary>Decodes <c>grpc-message</c>; malformed %-sequences are kept as they are, as the spec asks.</summary>
    public static string DecodeMessage(string? value)
    {
        if (string.IsNullOrEmpty(value) || !value.Contains('%'))
        {
            return value ?? string.Empty;
        }

        var bytes = new List<byte>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length &&
                byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte decoded))
            {
                bytes.Add(decoded);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// The status a client reports when a response's HTTP status is not 200 (the spec's table, as grpc-go uses it).
    /// </summary>
    public static GrpcStatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    /// <summary>The status a client reports when the server resets the stream with an HTTP/2 error code.</summary>
    public static GrpcStatusCode FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => GrpcStatusCode.Unavailable, // REFUSED_STREAM: not processed, safe to retry
        0x8 => GrpcStatusCode.Cancelled, // CANCEL
        0xb => GrpcStatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xc => GrpcStatusCode.PermissionDenied, // INADEQUATE_SECURITY
        _ => GrpcStatusCode.Internal, // NO_ERROR before trailers, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
    };
}
