using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's Watch service. Served from this member's applied state, like etcd serves watches from the local member:
/// no leader is needed, and a follower's watchers see events as the follower applies them. The events come from the
/// member's <see cref="WatchHub"/> (fed by the host's loop after each apply) and, for watchers behind it, from the
/// store's history; each call is a <see cref="WatchStream"/>.
/// </summary>
public sealed class WatchService
{
    private readonly EtcdFacadeContext facade;
    private readonly WatchHub hub;
    private readonly WatchOptions options;
    private long historyReads;
    private long openStreams;

    public WatchService(EtcdFacadeContext facade, WatchHub hub, WatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.facade = facade;
        this.hub = hub;
        this.options = options;
    }

    /// <summary>History chunks read by watchers that were behind the shared buffer (for tests and metrics).</summary>
    public long HistoryReads => Interlocked.Read(ref historyReads);

    /// <summary>Watch calls in progress.</summary>
    public long OpenStreams => Interlocked.Read(ref openStreams);

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.AddDuplexStreamingMethod(WatchMethods.Watch, WatchAsync);
    }

    internal void CountHistoryRead() => Interlocked.Increment(ref historyReads);

    private async Task WatchAsync(IAsyncStreamReader<Pb.WatchRequest> requests, IServerStreamWriter<Pb.WatchResponse> responses, ServerCallContext context)
    {
        Interlocked.Increment(ref openStreams);
        try
        {
            await new WatchStream(this, facade, hub, options, requests, responses, context).RunAsync(context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref openStreams);
        }
    }
}
