namespace CurpStore.Rpc;

/// <summary>A call's final status: the code and message of <c>grpc-status</c> and <c>grpc-message</c>.</summary>
/// <param name="StatusCode">The status code.</param>
/// <param name="Detail">The status message, percent-decoded.</param>
public readonly record struct GrpcStatus(GrpcStatusCode StatusCode, string Detail)
{
    /// <summary>The status of a call that succeeded.</summary>
    public static GrpcStatus Ok { get; } = new(GrpcStatusCode.OK, string.Empty);

    /// <inheritdoc/>
    public override string ToString() => $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\")";
}
