using CurpStore.Rpc;
using CurpStore.Server.Facade;
using CurpStore.Server.Hosting;
using CurpStore.Server.Transport;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Members;

/// <summary>
/// etcd's <c>publish</c> and its reaction to removal, for one member: until the configuration lists this member with
/// its name and client URLs, asks the leader (through this member's own peer listener, which passes the call on) to
/// record them; and watches for this member's removal from the configuration, which completes <see cref="Removed"/>
/// once applied (etcd logs it and exits).
/// </summary>
public sealed class MemberPublisher(
    MemberDirectory directory, ulong self, MemberAttributes wanted, Uri ownPeerUrl, Func<HostStatus> status, Action<string> log, PeerChannels peers) : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RemovalDetector removal = new(self);
    private Task? loop;

    /// <summary>How often the loop looks at the configuration (and retries publishing).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The bound of one publish call.</summary>
    public TimeSpan PublishCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a member that may have been removed asks the others.</summary>
    public TimeSpan RemovalCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    public Task Removed => removed.Task;

    public void Start() => loop = RunAsync(stopping.Token);

    private bool IsPublished() =>
        directory.Find(self)?.Attributes is { } current && current.Name == wanted.Name && current.ClientUrls.SequenceEqual(wanted.ClientUrls);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var published = false;
        using var channel = peers.Open(ownPeerUrl);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (removal.IsRemoved(status()) || (MayBeRemoved() && await OthersListWithoutSelfAsync(cancellationToken).ConfigureAwait(false)))
                {
                    log("the member has been permanently removed from the cluster");
                    removed.TrySetResult();
                    return;
                }
                if (!published && IsPublished())
                {
                    published = true;
                    log($"published local member {self:x16} to cluster: name {wanted.Name}, client URLs {string.Join(',', wanted.ClientUrls)}");
                }
                else if (!published && directory.Contains(self) && status().LeaderId != 0)
                {
                    var request = new Pb.Member { ID = self, Name = wanted.Name };
                    request.ClientURLs.AddRange(wanted.ClientUrls);
                    await channel.UnaryAsync(ClusterService.PublishMethod, request,
                        new CallOptions(Deadline: DateTime.UtcNow + PublishCallTimeout, CancellationToken: cancellationToken)).ConfigureAwait(false);
                }
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException)
            {
                // The leader changed or is not reachable yet: try again on the next turn.
                await Task.Delay(PollInterval, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private DateTime lastAsked = DateTime.MinValue;

    /// <summary>Its log holds its removal, or it has no leader (a member removed while the leader changed may never
    /// even receive its removal: the new leader replicates only to the members of its configuration). At most once
    /// per <see cref="RemovalCheckInterval"/>.</summary>
    private bool MayBeRemoved()
    {
        if ((directory.Contains(self) && status().LeaderId != 0) || DateTime.UtcNow - lastAsked < RemovalCheckInterval)
        {
            return false;
        }
        lastAsked = DateTime.UtcNow;
        return true;
    }

    /// <summary>This member's log holds its removal (or nothing reaches it), but it may never learn that the removal committed: the leader stops
    /// replicating to it at once. It asks the remaining members instead (etcd's peers answer a removed member's messages
    /// with "removed"): one that lists the cluster without it confirms.</summary>
    private async Task<bool> OthersListWithoutSelfAsync(CancellationToken cancellationToken)
    {
        foreach (var member in directory.Members)
        {
            if (directory.PeerUrlOf(member.Id) is not { } address)
            {
                continue;
            }
            try
            {
                var channel = peers.Shared(address);
                var list = await channel.UnaryAsync(Rpc.Etcd.ClusterMethods.MemberList, new Pb.MemberListRequest(),
                    new CallOptions(Deadline: DateTime.UtcNow + PublishCallTimeout, CancellationToken: cancellationToken)).ConfigureAwait(false);
                if (list.Members.All(m => m.ID != self))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
            {
                // ask the next one
            }
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
        stopping.Dispose();
    }
}
