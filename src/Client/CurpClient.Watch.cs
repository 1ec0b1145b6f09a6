using System.Runtime.CompilerServices;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Wire.Etcd;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Client;

/// <summary>What a watched key went through.</summary>
public enum WatchEventType
{
    /// <summary>The key was written.</summary>
    Put,

    /// <summary>The key was deleted.</summary>
    Delete,
}

/// <summary>One change of a watched key, as etcd's mvccpb.Event.</summary>
/// <param name="Type">A put or a delete.</param>
/// <param name="Kv">The key after the change (for a delete: the key and the deleting revision).</param>
/// <param name="PrevKv">The key before the change, when <see cref="WatchOptions.PrevKv"/> asked for it.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Kv, KeyValue? PrevKv);

/// <summary>What to watch and from where (clientv3's WithPrefix, WithFromKey, WithRange, WithRev, WithPrevKV,
/// WithFilterPut, WithFilterDelete).</summary>
public sealed record WatchOptions
{
    /// <summary>Every key that starts with the given key.</summary>
    public bool Prefix { get; init; }

    /// <summary>Every key from the given key on.</summary>
    public bool FromKey { get; init; }

    /// <summary>The keys in [key, RangeEnd); overrides <see cref="Prefix"/> and <see cref="FromKey"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>The first revision to deliver (0: changes after the watch starts). Past revisions are replayed from the
    /// store's history.</summary>
    public long StartRevision { get; init; }

    /// <summary>Deliver each key's previous version with its event.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Leave puts out.</summary>
    public bool NoPut { get; init; }

    /// <summary>Leave deletes out.</summary>
    public bool NoDelete { get; init; }
}

/// <summary>The Watch part: etcd's Watch RPC on any member (a watch is served from the member's applied state, as in
/// etcd). When a member goes away the watch resumes on the next one from the revision after the last event it
/// delivered, so no revision is lost or repeated (what clientv3 does).</summary>
public sealed partial class CurpClient
{
    /// <summary>Consecutive failed attempts to open a watch stream before the watch gives up.</summary>
    private const int MaxWatchReconnects = 20;

    /// <summary>Watches a key or a range (UTF-8 key) until <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="EtcdException">OutOfRange "etcdserver: mvcc: required revision has been compacted" when the
    /// start revision is gone; Unavailable when no member could serve the watch.</exception>
    public IAsyncEnumerable<WatchEvent> WatchAsync(string key, WatchOptions? watchOptions = null, CancellationToken cancellationToken = default) =>
        WatchAsync(Requests.Utf8(key), watchOptions, cancellationToken);

    /// <inheritdoc cref="WatchAsync(string, WatchOptions?, CancellationToken)"/>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(byte[] key, WatchOptions? watchOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var watch = watchOptions ?? new WatchOptions();
        var rangeEnd = Requests.RangeEnd(key, watch.RangeEnd, watch.Prefix, watch.FromKey);
        var next = watch.StartRevision;
        var failures = 0;
        while (true)
        {
            if (stopping.IsCancellationRequested)
            {
                throw EtcdException.ClientClosing();
            }
            var channel = ChannelsToTry(leaderFirst: false)[0];
            using var call = channel.DuplexStreaming(WatchMethods.Watch, new CallOptions(CancellationToken: cancellationToken));
            var create = new Pb.WatchCreateRequest
            {
                Key = Google.Protobuf.ByteString.CopyFrom(key),
                RangeEnd = Google.Protobuf.ByteString.CopyFrom(rangeEnd),
                StartRevision = next,
                PrevKv = watch.PrevKv,
            };
            if (watch.NoPut)
            {
                create.Filters.Add(Pb.WatchCreateRequest.Types.FilterType.Noput);
            }
            if (watch.NoDelete)
            {
                create.Filters.Add(Pb.WatchCreateRequest.Types.FilterType.Nodelete);
            }
            var lost = await TryAsync(() => call.RequestStream.WriteAsync(new Pb.WatchRequest { CreateRequest = create }, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            while (!lost)
            {
                Pb.WatchResponse? response = null;
                lost = await TryAsync(async () =>
                {
                    response = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : null;
                }, cancellationToken).ConfigureAwait(false);
                if (response is null)
                {
                    lost = true; // a member ends a watch stream only when it stops: resume elsewhere
                    break;
                }
                if (response.Canceled)
                {
                    throw response.CompactRevision > 0
                        ? EtcdException.From(Store.EtcdError.Compacted)
                        : new EtcdException(GrpcStatusCode.Cancelled, response.CancelReason);
                }
                if (response.Created && next == 0)
                {
                    next = response.Header.Revision + 1; // a resumed watch starts right after what was current here
                }
                failures = 0;
                foreach (var change in response.Events)
                {
                    next = change.Kv.ModRevision + 1;
                    yield return ToWatchEvent(change);
                }
            }
            if (++failures > MaxWatchReconnects)
            {
                throw new EtcdException(GrpcStatusCode.Unavailable, $"no member served the watch after {MaxWatchReconnects} attempts");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2_000, 50 << Math.Min(failures, 6))), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one step of a watch stream; true when the member was lost (the watch resumes elsewhere). A
    /// cancellation by the caller is thrown as <see cref="OperationCanceledException"/>; other errors are the answer.</summary>
    private static async Task<bool> TryAsync(Func<Task> step, CancellationToken cancellationToken)
    {
        try
        {
            await step().ConfigureAwait(false);
            return false;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is RpcException or OperationCanceledException)
        {
            throw new OperationCanceledException("the watch was cancelled", e, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is GrpcStatusCode.Unavailable or GrpcStatusCode.Internal or GrpcStatusCode.Unknown)
        {
            return true;
        }
        catch (RpcException e)
        {
            throw EtcdException.From(e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return true;
        }
    }

    private static WatchEvent ToWatchEvent(Mvcc.Event change) => new(
        change.Type == Mvcc.Event.Types.EventType.Delete ? WatchEventType.Delete : WatchEventType.Put,
        new KeyValue(EtcdProtoMapping.ToStore(change.Kv)),
        change.PrevKv is null ? null : new KeyValue(EtcdProtoMapping.ToStore(change.PrevKv)));
}
