namespace CurpStore.Rpc;

/// <summary>Per-call settings of a client call.</summary>
/// <param name="Headers">Custom request metadata, for example <c>authorization</c>.</param>
/// <param name="Deadline">
/// When the call must be over, in UTC. It is sent as <c>grpc-timeout</c> so the server cancels its handler, and
/// enforced locally so the call ends with DEADLINE_EXCEEDED even if the server never answers.
/// </param>
/// <param name="CancellationToken">Cancels the call (HTTP/2 RST_STREAM); it then ends with CANCELLED.</param>
public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default);
