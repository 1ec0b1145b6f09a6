using System.Net;
using System.Net.Http.Headers;

namespace CurpStore.Rpc;

/// <summary>
/// The request body of a client-streaming or duplex call: HttpClient hands us the HTTP/2 request stream, the call's
/// writer writes framed messages into it as they come, and completing ends the stream (END_STREAM).
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PushStreamContent()
    {
        Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
    }

    /// <summary>The request stream, once HttpClient started sending the body.</summary>
    public Task<Stream> GetStreamAsync(CancellationToken cancellationToken) => _stream.Task.WaitAsync(cancellationToken);

    /// <summary>Ends the request body; HttpClient then sends END_STREAM.</summary>
    public void Complete() => _completed.TrySetResult();

    /// <summary>
    /// Ends the body of a call that finished: gracefully (END_STREAM) after OK, by failing it otherwise, so that
    /// HttpClient resets the stream instead of telling the server that the client simply finished sending.
    /// Writers still waiting for the stream fail with <paramref name="error"/>.
    /// </summary>
    public void Finish(bool graceful, Exception error)
    {
        _stream.TrySetException(error);
        if (graceful)
        {
            _completed.TrySetResult();
        }
        else
        {
            _completed.TrySetException(error);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        try
        {
            // HttpClient writes a request's HEADERS frame without flushing it when a body follows, and sends it only
            // with the body's first DATA frame or another stream's flush. A call the server would refuse (or answer)
            // before reading any message would then wait, unseen by the server, until the client wrote a message or
            // the connection closed. Flushing the empty body sends the headers now.
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _stream.TrySetResult(stream);
            await _completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // HttpClient stops the request body when the response ended first (a server that refuses a stream answers
            // with its status at once). Throwing here would make HttpClient report a cancellation instead of that
            // response, and the caller would see "Cancelled" instead of the server's status. A call the client
            // cancelled itself still fails as cancelled: HttpClient checks its own token.
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
