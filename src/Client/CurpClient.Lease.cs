using System.Runtime.CompilerServices;
using CurpStore.Rpc.Etcd;
using CurpStore.Store;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Client;

/// <summary>The Lease part. Grant and revoke are replicated writes and go through the proposer like puts: a grant that
/// is retried after a lost answer must not create a second lease, and the proposer's ids make the retry harmless.
/// Keep-alive and time-to-live are answered from the leader's lease clock, so they are etcd Lease RPCs sent to the
/// leader (a follower answers Unavailable "etcdserver: no leader" and the next member is tried).</summary>
public sealed partial class CurpClient
{
    /// <summary>Grants a lease.</summary>
    /// <param name="ttlSeconds">Time to live; raised to the cluster's minimum when smaller.</param>
    /// <param name="leaseId">The id to use, or 0 to let the cluster choose.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting; the grant may still be applied.</param>
    /// <exception cref="EtcdException">For example FailedPrecondition "etcdserver: lease already exists".</exception>
    public async Task<LeaseGrantResult> GrantAsync(long ttlSeconds, long leaseId = 0, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (response, path) = await WriteAsync<LeaseGrantResponse>(new LeaseGrantRequest { TtlSeconds = ttlSeconds, Id = leaseId }, timeout, cancellationToken)
            .ConfigureAwait(false);
        return new LeaseGrantResult(response.Id, response.TtlSeconds, response.Header.Revision, path);
    }

    /// <summary>Revokes a lease and deletes every key attached to it.</summary>
    /// <exception cref="EtcdException">NotFound "etcdserver: requested lease not found".</exception>
    public async Task<LeaseRevokeResult> RevokeAsync(long leaseId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (response, path) = await WriteAsync<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = leaseId }, timeout, cancellationToken).ConfigureAwait(false);
        return new LeaseRevokeResult(response.Header.Revision, path);
    }

    /// <summary>How long a lease has left (TTL -1: unknown or expired, as etcd answers).</summary>
    /// <param name="leaseId">The lease.</param>
    /// <param name="keys">Also list the keys attached to it.</param>
    /// <param name="timeout">How long to wait for the answer (default: <see cref="CurpClientOptions.DefaultTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<LeaseTimeToLiveResult> TimeToLiveAsync(long leaseId, bool keys = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(
            (channel, call) => channel.UnaryAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = leaseId, Keys = keys }, call),
            leaderFirst: true, timeout, cancellationToken).ConfigureAwait(false);
        return new LeaseTimeToLiveResult(response.ID, response.TTL, response.GrantedTTL, [.. response.Keys.Select(k => k.ToByteArray())], response.Header?.Revision ?? 0);
    }

    /// <summary>Renews a lease once (clientv3's KeepAliveOnce).</summary>
    /// <exception cref="EtcdException">NotFound "etcdserver: requested lease not found" when the lease is unknown or
    /// expired.</exception>
    public async Task<LeaseKeepAliveResult> KeepAliveOnceAsync(long leaseId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(async (channel, call) =>
        {
            using var stream = channel.DuplexStreaming(LeaseMethods.LeaseKeepAlive, call);
            await stream.RequestStream.WriteAsync(new Pb.LeaseKeepAliveRequest { ID = leaseId }, call.CancellationToken).ConfigureAwait(false);
            if (!await stream.ResponseStream.MoveNext(call.CancellationToken).ConfigureAwait(false))
            {
                throw new Rpc.RpcException(Rpc.GrpcStatusCode.Unavailable, "the keep-alive stream ended without an answer");
            }
            var answer = stream.ResponseStream.Current;
            await stream.RequestStream.CompleteAsync().ConfigureAwait(false);
            return answer;
        }, leaderFirst: true, timeout, cancellationToken).ConfigureAwait(false);
        // etcd's server answers TTL 0 for an unknown lease; clientv3 turns that into ErrLeaseNotFound.
        return response.TTL > 0
            ? new LeaseKeepAliveResult(response.ID, response.TTL, response.Header?.Revision ?? 0)
            : throw EtcdException.From(EtcdError.LeaseNotFound);
    }

    /// <summary>Keeps a lease alive until <paramref name="cancellationToken"/> fires (clientv3's KeepAlive): renews it
    /// every third of its TTL and yields each renewal. Failed renewals are retried on the next member; the sequence
    /// ends when the lease is gone (revoked or expired) or no renewal succeeded within the lease's last TTL.</summary>
    public async IAsyncEnumerable<LeaseKeepAliveResult> KeepAliveAsync(long leaseId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var lastRenewal = DateTime.UtcNow;
        var ttl = TimeSpan.MaxValue;
        while (true)
        {
            LeaseKeepAliveResult? renewed = null;
            try
            {
                renewed = await KeepAliveOnceAsync(leaseId, options.RetryInterval * 4, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException e) when (e.StatusCode == Rpc.GrpcStatusCode.NotFound)
            {
                yield break;
            }
            catch (EtcdException)
            {
                if (DateTime.UtcNow - lastRenewal > ttl)
                {
                    yield break; // the lease has expired by now, wherever it was kept
                }
            }
            if (renewed is not null)
            {
                lastRenewal = DateTime.UtcNow;
                ttl = TimeSpan.FromSeconds(renewed.TtlSeconds);
                yield return renewed;
            }
            var pause = renewed is null ? options.RetryInterval : TimeSpan.FromSeconds(Math.Max(renewed.TtlSeconds / 3.0, 0.5));
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
        }
    }
}
