using System.Collections.Concurrent;
using System.Security.Cryptography;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Wire;
using CurpStore.Wire.Etcd;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Client;

/// <summary>
/// A CurpStore client shaped like etcd's clientv3, with the CURP fast path: the client is its own proposer and sends
/// each write to every member at once over <c>Curp/Connect</c>, so a write on keys nobody else is writing completes
/// in one round trip (leader's speculative answer plus a super-quorum of witnesses), without a hop through a serving
/// member. Each write result says which way it was decided (<see cref="CommitPath"/>). Thread-safe.
/// </summary>
/// <remarks>
/// <para>One task owns the proposer (<see cref="ProposerLoop"/>); calls reach it through a bounded inbox. A command
/// not decided within <see cref="CurpClientOptions.RetryInterval"/> is sent again with the same id, so a write is
/// applied at most once however often it is retried, and it follows leader changes.</para>
/// <para>Cancelling a call (its token, or its timeout) ends the wait with <see cref="OperationCanceledException"/>
/// (or <see cref="EtcdException"/> DeadlineExceeded), but, as with etcd, a write that was already sent may still be
/// applied: read the key to learn the outcome.</para>
/// </remarks>
public sealed partial class CurpClient : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan DiscoveryCallTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DiscoveryRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly CurpClientOptions options;
    private readonly IReadOnlyList<GrpcChannel> channels;
    private readonly WireCodec codec = new(new EtcdCommandCodec());
    private readonly ConcurrentDictionary<ulong, MemberConnection> connections = new();
    private readonly CancellationTokenSource stopping = new();
    private ProposerLoop? loop;
    private Task? resolving;
    private int nextChannel;
    private long droppedOutgoing;

    private CurpClient(IEnumerable<Uri> endpoints, CurpClientOptions options)
    {
        this.options = options;
        channels = [.. endpoints.Select(e => new GrpcChannel(e, new GrpcChannelOptions { SslOptions = options.SslOptions }))];
        if (channels.Count == 0)
        {
            throw new ArgumentException("at least one endpoint is needed", nameof(endpoints));
        }
    }

    /// <summary>The ids of the cluster's members (from Cluster.MemberList).</summary>
    public IReadOnlyList<ulong> MemberIds { get; private set; } = [];

    /// <summary>This client's proposer id (random, distinct from every member's).</summary>
    public ulong ProposerId => Loop.ProposerId;

    /// <summary>The member the client last saw lead (0: none yet).</summary>
    public ulong LeaderId => Loop.LeaderHint;

    /// <summary>The exactly-once session the client's writes carry (0: none open yet).</summary>
    internal ulong SessionId => Loop.SessionId;

    /// <summary>Members with an open (or reopening) stream.</summary>
    public int ConnectedMembers => connections.Count;

    /// <summary>Messages that could not be sent (no stream to the member, or its queue was full) or received (the
    /// proposer's inbox was full).</summary>
    public long DroppedMessages => Interlocked.Read(ref droppedOutgoing) + connections.Values.Sum(c => c.Dropped) + Loop.DroppedIncoming;

    private ProposerLoop Loop => loop ?? throw new InvalidOperationException("not connected");

    /// <summary>Connects to a cluster through its client URLs (for example <c>http://127.0.0.1:2379</c>): learns the
    /// member ids, opens a stream to each member and a session for exactly-once writes.</summary>
    /// <exception cref="EtcdException">DeadlineExceeded when fewer than a majority of the members answered within
    /// <see cref="CurpClientOptions.DialTimeout"/>.</exception>
    public static Task<CurpClient> ConnectAsync(IEnumerable<string> endpoints, CurpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return ConnectAsync(endpoints.Select(e => new Uri(e)), options, cancellationToken);
    }

    /// <inheritdoc cref="ConnectAsync(IEnumerable{string}, CurpClientOptions?, CancellationToken)"/>
    public static async Task<CurpClient> ConnectAsync(IEnumerable<Uri> endpoints, CurpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        options ??= new CurpClientOptions();
        options.Validate();
        var client = new CurpClient(endpoints, options);
        try
        {
            await client.DiscoverAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the streams and the proposer's loop; calls still waiting fail with Cancelled "grpc: the client
    /// connection is closing" (their writes may still be applied).</summary>
    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        if (resolving is not null)
        {
            await resolving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (loop is not null)
        {
            await loop.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var connection in connections.Values)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
        stopping.Dispose();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Learns which member each endpoint is (Maintenance.Status) and the member list (Cluster.MemberList),
    /// until a majority of the members is reachable; the other endpoints keep being tried in the background.</summary>
    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        using var dial = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        dial.CancelAfter(options.DialTimeout);
        var members = new Dictionary<GrpcChannel, ulong>();
        ulong[]? memberIds = null;
        try
        {
            while (memberIds is null || members.Values.Count(memberIds.Contains) < (memberIds.Length / 2) + 1)
            {
                foreach (var (channel, memberId) in await IdentifyAsync(channels.Where(c => !members.ContainsKey(c)), dial.Token).ConfigureAwait(false))
                {
                    members[channel] = memberId;
                }
                if (memberIds is null && members.Count > 0)
                {
                    memberIds = await ListMembersAsync(members.Keys, dial.Token).ConfigureAwait(false);
                }
                if (memberIds is null || members.Values.Count(memberIds.Contains) < (memberIds.Length / 2) + 1)
                {
                    await Task.Delay(DiscoveryRetryDelay, dial.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EtcdException(GrpcStatusCode.DeadlineExceeded, "context deadline exceeded");
        }
        MemberIds = memberIds;
        loop = new ProposerLoop(NewProposerId(memberIds), memberIds, options, Route);
        foreach (var (channel, memberId) in members.Where(m => memberIds.Contains(m.Value)))
        {
            Connect(memberId, channel);
        }
        loop.Start();
        var unresolved = channels.Where(c => !members.ContainsKey(c)).ToList();
        if (unresolved.Count > 0)
        {
            resolving = ResolveLaterAsync(unresolved, stopping.Token);
        }
    }

    /// <summary>Asks each channel which member it reaches; those that do not answer are left out.</summary>
    private static async Task<List<(GrpcChannel Channel, ulong MemberId)>> IdentifyAsync(IEnumerable<GrpcChannel> candidates, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(candidates.Select(async channel =>
        {
            try
            {
                var status = await channel.UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(),
                    new CallOptions(Deadline: DateTime.UtcNow + DiscoveryCallTimeout, CancellationToken: cancellationToken)).ConfigureAwait(false);
                return (channel, status.Header.MemberId);
            }
            catch (Exception e) when (IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
            {
                return (channel, 0UL);
            }
        })).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return [.. answers.Where(a => a.Item2 != 0)];
    }

    private static async Task<ulong[]?> ListMembersAsync(IEnumerable<GrpcChannel> reachable, CancellationToken cancellationToken)
    {
        foreach (var channel in reachable)
        {
            try
            {
                var list = await channel.UnaryAsync(ClusterMethods.MemberList, new Pb.MemberListRequest(),
                    new CallOptions(Deadline: DateTime.UtcNow + DiscoveryCallTimeout, CancellationToken: cancellationToken)).ConfigureAwait(false);
                return [.. list.Members.Select(m => m.ID)];
            }
            catch (Exception e) when (IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
            {
                // try the next one
            }
        }
        return null;
    }

    /// <summary>Endpoints that did not answer at connect time (a member down) are identified when they come back.</summary>
    private async Task ResolveLaterAsync(List<GrpcChannel> unresolved, CancellationToken cancellationToken)
    {
        try
        {
            while (unresolved.Count > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                foreach (var (channel, memberId) in await IdentifyAsync(unresolved, cancellationToken).ConfigureAwait(false))
                {
                    unresolved.Remove(channel);
                    if (MemberIds.Contains(memberId) && !connections.ContainsKey(memberId))
                    {
                        Connect(memberId, channel);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // disposed
        }
    }

    private void Connect(ulong memberId, GrpcChannel channel) =>
        connections.TryAdd(memberId, new MemberConnection(memberId, channel, Loop.ProposerId, codec, Loop.Deliver, options));

    private void Route(Message message)
    {
        if (connections.TryGetValue(message.To, out var connection))
        {
            connection.Send(message);
        }
        else
        {
            Interlocked.Increment(ref droppedOutgoing);
        }
    }

    /// <summary>A random id that is no member's id and no member host's proposer id (the member id with the top bit
    /// flipped); members refuse streams that claim one of those.</summary>
    private static ulong NewProposerId(IReadOnlyCollection<ulong> memberIds)
    {
        while (true)
        {
            var id = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
            if (id != 0 && !memberIds.Contains(id) && !memberIds.Contains(id ^ (1UL << 63)))
            {
                return id;
            }
        }
    }

    internal static bool IsUnreachable(Exception e) => e is RpcException or HttpRequestException or IOException or OperationCanceledException;

    /// <summary>The channels to try for an etcd RPC, starting at a rotating one to spread the load; with
    /// <paramref name="leaderFirst"/> the leader's comes first when it is known (keep-alive and time-to-live are
    /// answered by the leader only).</summary>
    private List<GrpcChannel> ChannelsToTry(bool leaderFirst)
    {
        var start = (int)((uint)Interlocked.Increment(ref nextChannel) % (uint)channels.Count);
        var ordered = channels.Skip(start).Concat(channels.Take(start)).ToList();
        if (leaderFirst && loop is not null && connections.TryGetValue(loop.LeaderHint, out var leader))
        {
            ordered.Remove(leader.Channel);
            ordered.Insert(0, leader.Channel);
        }
        return ordered;
    }

    /// <summary>Runs an etcd RPC on one member (the leader first when <paramref name="leaderFirst"/>) or, when a member
    /// cannot answer (unreachable, or "no leader"), on the next; any other failure is the answer.</summary>
    private async Task<T> CallAsync<T>(Func<GrpcChannel, CallOptions, Task<T>> call, bool leaderFirst, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (stopping.IsCancellationRequested)
        {
            throw EtcdException.ClientClosing();
        }
        var deadline = (timeout ?? options.DefaultTimeout) is { } t ? DateTime.UtcNow + t : (DateTime?)null;
        EtcdException? last = null;
        foreach (var channel in ChannelsToTry(leaderFirst))
        {
            try
            {
                return await call(channel, new CallOptions(Deadline: deadline, CancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is RpcException or OperationCanceledException)
            {
                throw new OperationCanceledException("the call was cancelled", e, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == GrpcStatusCode.Unavailable)
            {
                last = EtcdException.From(e);
            }
            catch (RpcException e)
            {
                throw EtcdException.From(e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                last = new EtcdException(GrpcStatusCode.Unavailable, e.Message, e);
            }
        }
        throw last ?? EtcdException.RequestTimedOut();
    }
}
