namespace CurpStore.Rpc;

/// <summary>
/// Reads the messages of a stream one at a time (the request stream on a server, the response stream on a client).
/// Not thread-safe: call <see cref="MoveNext"/> again only after the previous call completed. Also enumerable with
/// <c>await foreach</c>.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamReader<T> : IAsyncEnumerable<T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>Reads the next message; false at the end of the stream.</summary>
    /// <exception cref="RpcException">On a client: the call ended with a status other than OK.</exception>
    Task<bool> MoveNext(CancellationToken cancellationToken = default);
}

/// <summary>
/// Writes messages to a stream. Writes wait for HTTP/2 flow control, so a slow reader slows the writer instead of
/// growing a buffer. Concurrent writes are serialized, never interleaved.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>Writes one message and flushes it.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>A server's response stream.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

/// <summary>A client's request stream, which the client closes with <see cref="CompleteAsync"/> (HTTP/2 END_STREAM).</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream; no more writes are allowed.</summary>
    Task CompleteAsync();
}
