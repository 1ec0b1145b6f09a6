using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Watch;

/// <summary>One Watch call driven by hand: send create, cancel and progress requests, read responses. Every read has a
/// generous bound that only turns a hang into a failure.</summary>
internal sealed class WatchClient : IDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly AsyncDuplexStreamingCall<Pb.WatchRequest, Pb.WatchResponse> call;

    /// <param name="options">Per-call settings, such as an auth token in the headers.</param>
    public WatchClient(GrpcChannel channel, CallOptions options = default)
    {
        call = channel.DuplexStreaming(WatchMethods.Watch, options);
    }

    public static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    public static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    public Task SendAsync(Pb.WatchCreateRequest create) => call.RequestStream.WriteAsync(new Pb.WatchRequest { CreateRequest = create });

    public Task CancelAsync(long watchId) => call.RequestStream.WriteAsync(new Pb.WatchRequest { CancelRequest = new Pb.WatchCancelRequest { WatchId = watchId } });

    public Task RequestProgressAsync() => call.RequestStream.WriteAsync(new Pb.WatchRequest { ProgressRequest = new Pb.WatchProgressRequest() });

    /// <summary>Creates a watcher and returns the created response (which must be the next response).</summary>
    public async Task<Pb.WatchResponse> CreateAsync(Pb.WatchCreateRequest create)
    {
        await SendAsync(create);
        var created = await NextAsync();
        Assert.IsTrue(created.Created, $"expected a created response, got {created}");
        return created;
    }

    /// <summary>A watcher on one key, a prefix, or [key, rangeEnd).</summary>
    public Task<Pb.WatchResponse> CreateAsync(string key, long startRevision = 0, string? rangeEnd = null, bool prefix = false, long watchId = 0, bool prevKv = false)
    {
        var create = new Pb.WatchCreateRequest { Key = Bytes(key), StartRevision = startRevision, WatchId = watchId, PrevKv = prevKv };
        if (prefix)
        {
            create.RangeEnd = ByteString.CopyFrom(Curp.KeyRange.PrefixEnd(Encoding.UTF8.GetBytes(key)));
        }
        else if (rangeEnd is not null)
        {
            create.RangeEnd = Bytes(rangeEnd);
        }
        return CreateAsync(create);
    }

    public async Task<Pb.WatchResponse> NextAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        Assert.IsTrue(await call.ResponseStream.MoveNext(timeout.Token), "the watch stream ended");
        return call.ResponseStream.Current;
    }

    /// <summary>Reads responses until <paramref name="count"/> events have arrived; returns them with the responses.</summary>
    public async Task<(List<Rpc.Etcd.MvccPb.Event> Events, List<Pb.WatchResponse> Responses)> EventsAsync(int count)
    {
        var events = new List<Rpc.Etcd.MvccPb.Event>();
        var responses = new List<Pb.WatchResponse>();
        while (events.Count < count)
        {
            var response = await NextAsync();
            responses.Add(response);
            events.AddRange(response.Events);
        }
        Assert.AreEqual(count, events.Count, "more events than expected");
        return (events, responses);
    }

    public void Dispose() => call.Dispose();
}
