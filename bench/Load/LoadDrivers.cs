using CurpStore.Client;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using CompareResult = CurpStore.Store.CompareResult;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Bench.Load;

/// <summary>How the load reaches the cluster: etcd's RPCs (any etcd v3 server) or CurpStore's .NET client.</summary>
internal abstract class LoadDriver : IAsyncDisposable
{
    protected static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    public static async Task<LoadDriver> CreateAsync(LoadOptions options, CancellationToken cancellationToken) =>
        options.Target == LoadOptions.CurpClientTarget
            ? new CurpClientDriver(await CurpClient.ConnectAsync(options.Endpoints, new CurpClientOptions
            {
                DefaultTimeout = CallTimeout,
                MaxInflight = Math.Max(1_024, options.Clients),
                SslOptions = options.SslOptions(),
            }, cancellationToken).ConfigureAwait(false), options.ValueSize)
            : new EtcdRpcDriver(options.Endpoints, options.ValueSize, options.SslOptions());

    /// <summary>Issues one request for logical client <paramref name="client"/>; returns how a write was decided when
    /// the driver knows it (only the CURP client does). Failures throw <see cref="RpcException"/> or
    /// <see cref="EtcdException"/>.</summary>
    public abstract Task<CommitPath?> IssueAsync(int client, LoadKind kind, string key, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>etcd's KV RPCs, each logical client on one endpoint (round robin): the serving member proposes.</summary>
internal sealed class EtcdRpcDriver(IReadOnlyList<Uri> endpoints, int valueSize, System.Net.Security.SslClientAuthenticationOptions? sslOptions = null) : LoadDriver
{
    private readonly GrpcChannel[] channels = [.. endpoints.Select(e => new GrpcChannel(e, new GrpcChannelOptions { SslOptions = sslOptions }))];
    private readonly ByteString value = ByteString.CopyFrom(new byte[valueSize]);

    public override Task<CommitPath?> IssueAsync(int client, LoadKind kind, string key, CancellationToken cancellationToken)
    {
        var channel = channels[client % channels.Length];
        var bytes = ByteString.CopyFromUtf8(key);
        var options = new CallOptions(Deadline: DateTime.UtcNow + CallTimeout, CancellationToken: cancellationToken);
        return kind switch
        {
            LoadKind.Put => CallAsync(channel, KVMethods.Put, new Pb.PutRequest { Key = bytes, Value = value }, options),
            LoadKind.Range => CallAsync(channel, KVMethods.Range, new Pb.RangeRequest { Key = bytes }, options),
            _ => CallAsync(channel, KVMethods.Txn, new Pb.TxnRequest
            {
                // A compare-and-put: succeeds when the key is absent or at any version (version >= 0), as clients do.
                Compare = { new Pb.Compare { Key = bytes, Target = Pb.Compare.Types.CompareTarget.Version, Result = Pb.Compare.Types.CompareResult.Greater, Version = -1 } },
                Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = bytes, Value = value } } },
            }, options),
        };
    }

    /// <summary>One call; a CurpStore member names how a write it proposed completed in a trailer (etcd sends none).</summary>
    private static async Task<CommitPath?> CallAsync<TRequest, TResponse>(GrpcChannel channel, Method<TRequest, TResponse> method, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        using var call = channel.StartUnary(method, request, options);
        await call.ResponseAsync.ConfigureAwait(false);
        return call.GetTrailers().GetValue(CommitPathTrailer.Name) switch
        {
            CommitPathTrailer.Fast => CommitPath.Fast,
            CommitPathTrailer.CommitNotice => CommitPath.CommitNotice,
            CommitPathTrailer.Slow => CommitPath.Slow,
            _ => null,
        };
    }

    public override ValueTask DisposeAsync()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>One <see cref="CurpClient"/> shared by every logical client: it proposes each write to every member
/// itself, so each write reports its <see cref="CommitPath"/>.</summary>
internal sealed class CurpClientDriver(CurpClient curp, int valueSize) : LoadDriver
{
    private readonly byte[] value = new byte[valueSize];

    public override async Task<CommitPath?> IssueAsync(int client, LoadKind kind, string key, CancellationToken cancellationToken)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(key);
        switch (kind)
        {
            case LoadKind.Put:
                return (await curp.PutAsync(bytes, value, cancellationToken: cancellationToken).ConfigureAwait(false)).CommitPath;
            case LoadKind.Range:
                await curp.GetAsync(bytes, cancellationToken: cancellationToken).ConfigureAwait(false);
                return null;
            default:
                var txn = new Txn().If(Compare.Version(key, CompareResult.Greater, -1)).Then(Op.Put(bytes, value));
                return (await curp.TxnAsync(txn, cancellationToken: cancellationToken).ConfigureAwait(false)).CommitPath;
        }
    }

    public override ValueTask DisposeAsync() => curp.DisposeAsync();
}
