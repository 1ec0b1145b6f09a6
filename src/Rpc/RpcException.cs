namespace CurpStore.Rpc;

/// <summary>
/// A call that ended with a status other than <see cref="GrpcStatusCode.OK"/>. Clients receive it for every failed
/// call (including transport failures, mapped to a status as gRPC's clients do); server handlers throw it to end a
/// call with a chosen status and trailers.
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception carrying a status code and its human-readable detail.</summary>
    /// <param name="statusCode">The status code sent or received in <c>grpc-status</c>.</param>
    /// <param name="detail">The status message sent or received in <c>grpc-message</c>.</param>
    /// <param name="trailers">Trailing metadata; a server sends it with the status, a client received it.</param>
    /// <param name="innerException">The failure that caused this status, if any.</param>
    public RpcException(GrpcStatusCode statusCode, string detail, Metadata? trailers = null, Exception? innerException = null)
        : base($"Status(StatusCode=\"{statusCode}\", Detail=\"{detail}\")", innerException)
    {
        StatusCode = statusCode;
        Detail = detail;
        Trailers = trailers ?? new Metadata();
    }

    /// <summary>The status code.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The status code and message together.</summary>
    public GrpcStatus Status => new(StatusCode, Detail);

    /// <summary>The status message (already percent-decoded).</summary>
    public string Detail { get; }

    /// <summary>The trailing metadata that came with the status.</summary>
    public Metadata Trailers { get; }
}
