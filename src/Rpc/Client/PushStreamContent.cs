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
        _stream.TrySetResult(stream);
        try
        {
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
