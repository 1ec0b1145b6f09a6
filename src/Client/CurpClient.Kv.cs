using CurpStore.Curp;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using CurpStore.Wire.Etcd;

namespace CurpStore.Client;

/// <summary>The KV part: writes go through the client's own proposer to every member (fast path); linearizable reads
/// through the proposer's read path to the leader; serializable reads to one member's KV Range RPC.</summary>
public sealed partial class CurpClient
{
    /// <summary>etcd's default bound on the operations of one txn branch (--max-txn-ops); the members check their own
    /// bound again when they apply the txn.</summary>
    private static readonly int MaxTxnOps = new EtcdStoreOptions().MaxTxnOps;

    /// <summary>Puts a key (UTF-8 key and value).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="putOptions">Lease, prev-kv and ignore options.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting; the put may still be applied.</param>
    /// <exception cref="EtcdException">etcd's status and message (for example InvalidArgument "etcdserver: key is not
    /// provided").</exception>
    public Task<PutResult> PutAsync(string key, string value, PutOptions? putOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        PutAsync(Requests.Utf8(key), Requests.Utf8(value), putOptions, timeout, cancellationToken);

    /// <inheritdoc cref="PutAsync(string, string, PutOptions?, TimeSpan?, CancellationToken)"/>
    public async Task<PutResult> PutAsync(byte[] key, byte[] value, PutOptions? putOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var request = Requests.Put(key, value, putOptions ?? new PutOptions());
        ThrowIfInvalid(RequestValidator.ValidatePut(request));
        var (response, path) = await WriteAsync<PutResponse>(request, timeout, cancellationToken).ConfigureAwait(false);
        return ToResult(response, path);
    }

    /// <summary>Reads a key or a range (UTF-8 key).</summary>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="getOptions">Prefix, range end, limit, revision, serializable, sort options.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="EtcdException">etcd's status and message (for example OutOfRange "etcdserver: mvcc: required
    /// revision has been compacted").</exception>
    public Task<GetResult> GetAsync(string key, GetOptions? getOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        GetAsync(Requests.Utf8(key), getOptions, timeout, cancellationToken);

    /// <inheritdoc cref="GetAsync(string, GetOptions?, TimeSpan?, CancellationToken)"/>
    public async Task<GetResult> GetAsync(byte[] key, GetOptions? getOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var request = Requests.Range(key, getOptions ?? new GetOptions());
        ThrowIfInvalid(RequestValidator.ValidateRange(request));
        if (request.Serializable)
        {
            // One member's own copy, no barrier: any member's KV Range answers it without involving the leader.
            var proto = await CallAsync(
                (channel, call) => channel.UnaryAsync(KVMethods.Range, EtcdProtoMapping.ToProto(request), call), leaderFirst: false, timeout, cancellationToken)
                .ConfigureAwait(false);
            return ToResult(EtcdProtoMapping.ToStore(proto));
        }
        var completion = await Loop.RunAsync(request, read: true, timeout ?? options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        return ToResult(Answer<RangeResponse>(completion));
    }

    /// <summary>Deletes a key or a range (UTF-8 key).</summary>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="deleteOptions">Prefix, range end and prev-kv options.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting; the delete may still be applied.</param>
    /// <exception cref="EtcdException">etcd's status and message.</exception>
    public Task<DeleteResult> DeleteAsync(string key, DeleteOptions? deleteOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(Requests.Utf8(key), deleteOptions, timeout, cancellationToken);

    /// <inheritdoc cref="DeleteAsync(string, DeleteOptions?, TimeSpan?, CancellationToken)"/>
    public async Task<DeleteResult> DeleteAsync(byte[] key, DeleteOptions? deleteOptions = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var request = Requests.Delete(key, deleteOptions ?? new DeleteOptions());
        ThrowIfInvalid(RequestValidator.ValidateDeleteRange(request));
        var (response, path) = await WriteAsync<DeleteRangeResponse>(request, timeout, cancellationToken).ConfigureAwait(false);
        return ToResult(response, path);
    }

    /// <summary>Runs a transaction. Like the server's etcd facade, every transaction is proposed as a write (a
    /// read-only one simply changes nothing).</summary>
    /// <param name="txn">Compares and the two branches.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting; the transaction may still be applied.</param>
    /// <exception cref="EtcdException">etcd's status and message (for example InvalidArgument "etcdserver: duplicate
    /// key given in txn request").</exception>
    public async Task<TxnResult> TxnAsync(Txn txn, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var request = txn.ToRequest();
        ThrowIfInvalid(RequestValidator.ValidateTxn(request, MaxTxnOps));
        var (response, path) = await WriteAsync<TxnResponse>(request, timeout, cancellationToken).ConfigureAwait(false);
        return ToResult(response, path);
    }

    /// <summary>Compacts the key-value history up to <paramref name="revision"/>; returns the store revision.</summary>
    /// <exception cref="EtcdException">OutOfRange "etcdserver: mvcc: required revision has been compacted" or "...is a
    /// future revision".</exception>
    public async Task<long> CompactAsync(long revision, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (response, _) = await WriteAsync<CompactionResponse>(new CompactionRequest { Revision = revision }, timeout, cancellationToken).ConfigureAwait(false);
        return response.Header.Revision;
    }

    private async Task<(T Response, CommitPath Path)> WriteAsync<T>(EtcdRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
        where T : EtcdResponse
    {
        var completion = await Loop.RunAsync(request, read: false, timeout ?? options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        var response = Answer<T>(completion);
        return (response, completion.Path switch
        {
            CompletionPath.Fast => CommitPath.Fast,
            CompletionPath.CommitNotice => CommitPath.CommitNotice,
            _ => CommitPath.Slow,
        });
    }

    /// <summary>The store's answer, or the exception etcd's server would have ended the call with.</summary>
    private static T Answer<T>(Completion completion)
        where T : EtcdResponse => completion.Error switch
        {
            ProposeError.None => completion.Result switch
            {
                T response => response,
                EtcdError error => throw EtcdException.From(error),
                var other => throw new EtcdException(Rpc.GrpcStatusCode.Internal, $"unexpected answer {other?.GetType().Name ?? "null"}"),
            },
            ProposeError.TooManyRequests => throw EtcdException.TooManyRequests(),
            // The proposer gave up (no leader answered within its retries) or the session expired: the outcome is
            // unknown, which etcd reports as a timeout.
            _ => throw EtcdException.RequestTimedOut(),
        };

    private static void ThrowIfInvalid(EtcdError? error)
    {
        if (error is not null)
        {
            throw EtcdException.From(error);
        }
    }

    private static KeyValue? ToResult(Store.KeyValue? kv) => kv is null ? null : new KeyValue(kv);

    private static IReadOnlyList<KeyValue> ToResult(IReadOnlyList<Store.KeyValue> kvs) => [.. kvs.Select(kv => new KeyValue(kv))];

    private static GetResult ToResult(RangeResponse response) => new(response.Header.Revision, ToResult(response.Kvs), response.More, response.Count);

    private static PutResult ToResult(PutResponse response, CommitPath path) => new(response.Header.Revision, ToResult(response.PrevKv), path);

    private static DeleteResult ToResult(DeleteRangeResponse response, CommitPath path) => new(response.Header.Revision, response.Deleted, ToResult(response.PrevKvs), path);

    private static TxnResult ToResult(TxnResponse response, CommitPath path) => new(
        response.Header.Revision,
        response.Succeeded,
        [.. response.Responses.Select(op => new TxnOpResult(
            op.ResponseRange is { } range ? ToResult(range) : null,
            op.ResponsePut is { } put ? ToResult(put, path) : null,
            op.ResponseDeleteRange is { } delete ? ToResult(delete, path) : null,
            op.ResponseTxn is { } nested ? ToResult(nested, path) : null))],
        path);
}
