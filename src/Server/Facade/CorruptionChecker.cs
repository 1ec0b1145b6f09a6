using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Members;
using CurpStore.Store;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's periodic corruption check (<c>--experimental-corrupt-check-time</c>, etcdserver/corrupt.go): every interval
/// the leader hashes its store (HashKV at its current revision), asks every other member for its HashKV at that
/// revision over the peer URL, and hashes itself again. A member that answers for the same revision and compacted
/// revision with another hash, or the leader itself when its two hashes of one revision differ, gets the CORRUPT alarm,
/// raised through the log, so every member then refuses writes. At most one alarm per check, as in etcd. A member
/// that does not answer (down, not at that revision yet, compacted past it) is skipped until the next check.
/// </summary>
/// <remarks>etcd also raises CORRUPT for a follower whose revision or compacted revision is ahead of the leader's;
/// those two rules are left out: a CURP follower's applied revision may pass the leader's for a moment (it applies a
/// commit the leader has announced but not applied in the same loop turn), and a false alarm stops every write.</remarks>
public sealed class CorruptionChecker : IAsyncDisposable
{
    private static readonly TimeSpan PeerCallTimeout = TimeSpan.FromSeconds(5);

    private readonly EtcdFacadeContext facade;
    private readonly MemberDirectory members;

    private readonly Action<string> log;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public CorruptionChecker(EtcdFacadeContext facade, MemberDirectory members, TimeSpan interval, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.facade = facade ?? throw new ArgumentNullException(nameof(facade));
        this.members = members ?? throw new ArgumentNullException(nameof(members));
        Interval = interval;
        this.log = log ?? (_ => { });
    }

    public TimeSpan Interval { get; }

    public void Start()
    {
        if (loop is not null)
        {
            throw new InvalidOperationException("the corruption checker is already running");
        }
        loop = RunAsync(stopping.Token);
    }

    /// <summary>One check, as the leader runs it. Returns the member the CORRUPT alarm was raised for, or null.</summary>
    public async Task<ulong?> CheckAsync(CancellationToken cancellationToken)
    {
        var first = await KvHash.ComputeAsync(facade, 0, cancellationToken).ConfigureAwait(false);
        var revision = first.HashRevision;
        var peers = PeerChannels(facade, members);
        var answers = await Task.WhenAll(peers.Select(channel => PeerHashAsync(channel, revision, cancellationToken))).ConfigureAwait(false);
        var second = await KvHash.ComputeAsync(facade, revision, cancellationToken).ConfigureAwait(false);
        ulong? corrupt = null;
        if (second.Hash != first.Hash && second.CompactRevision == first.CompactRevision)
        {
            log($"corruption check: this member's hash of revision {revision} changed from {first.Hash} to {second.Hash}");
            corrupt = facade.MemberId;
        }
        foreach (var answer in answers.OfType<Pb.HashKVResponse>())
        {
            if (corrupt is null && answer.HashRevision == revision && answer.CompactRevision == first.CompactRevision && answer.Hash != first.Hash)
            {
                log($"corruption check: member {answer.Header.MemberId:x16} hashes revision {revision} to {answer.Hash}, this member to {first.Hash}");
                corrupt = answer.Header.MemberId;
            }
        }
        if (corrupt is null)
        {
            // Debug level would do, but the host's log has no levels: one line per check is the price of seeing checks run.
            log($"corruption check passed: revision {revision}, {answers.Count(a => a is not null)} of {peers.Count} members compared");
        }
        else if (corrupt is { } member)
        {
            await facade.ProposeAlarmAsync(new AlarmRequest { Action = AlarmAction.Activate, MemberId = member, Alarm = AlarmType.Corrupt }, cancellationToken).ConfigureAwait(false);
        }
        return corrupt;
    }

    /// <summary>
    /// etcd's initial check (<c>--experimental-initial-corrupt-check</c>, CheckInitialHashKV): a member restarted on its
    /// data hashes its store at its current revision and asks every peer for its HashKV at that revision. A peer with
    /// the same compacted revision and another hash makes the start fail with etcd's error; a peer that is down, behind
    /// (future revision) or compacted past it is skipped, as in etcd.
    /// </summary>
    /// <exception cref="InvalidDataException">A peer's hash differs: "ID found data inconsistency with peers".</exception>
    public static async Task CheckInitialAsync(EtcdFacadeContext facade, MemberDirectory members, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(facade);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(log);
        var local = await KvHash.ComputeAsync(facade, 0, cancellationToken).ConfigureAwait(false);
        log($"starting initial corruption check: revision {local.HashRevision}, compacted {local.CompactRevision}, hash {local.Hash}");
        var peers = PeerChannels(facade, members);
        var answers = await Task.WhenAll(peers.Select(channel => PeerHashAsync(channel, local.HashRevision, cancellationToken))).ConfigureAwait(false);
        var mismatches = 0;
        foreach (var answer in answers.OfType<Pb.HashKVResponse>().Where(a => a.Hash != local.Hash))
        {
            if (answer.CompactRevision == local.CompactRevision)
            {
                log($"initial corruption check: member {answer.Header.MemberId:x16} hashes revision {local.HashRevision} to {answer.Hash}, this member to {local.Hash}");
                mismatches++;
            }
            else
            {
                log($"initial corruption check: member {answer.Header.MemberId:x16} has compacted revision {answer.CompactRevision}, this member {local.CompactRevision}: not compared");
            }
        }
        if (mismatches > 0)
        {
            throw new InvalidDataException($"{facade.MemberId:x} found data inconsistency with peers");
        }
        log($"initial corruption checking passed; no corruption ({answers.Count(a => a is not null)} of {peers.Count} peers compared)");
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

    /// <summary>The kept channel (the member's pool, with the peer TLS settings) to every other member of
    /// <paramref name="members"/>' current configuration that has a peer URL.</summary>
    private static List<GrpcChannel> PeerChannels(EtcdFacadeContext facade, MemberDirectory members) =>
        [.. members.Members.Where(m => m.Id != facade.MemberId).Select(m => members.PeerUrlOf(m.Id)).OfType<Uri>().Select(facade.Peers.Shared)];

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (facade.Host.Status.LeaderId != facade.MemberId || facade.Machine.Alarms.Has(AlarmType.Corrupt))
                {
                    continue;
                }
                try
                {
                    await CheckAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    // This member's own hash or the proposal failed (a compaction raced, leadership moved): next turn.
                    log($"corruption check skipped: {e.Status.Detail}");
                }
                catch (InvalidOperationException e)
                {
                    log($"corruption check skipped: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>The member's HashKV at <paramref name="revision"/>, or null when it cannot answer now.</summary>
    private static async Task<Pb.HashKVResponse?> PeerHashAsync(GrpcChannel channel, long revision, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.UnaryAsync(MaintenanceMethods.HashKV, new Pb.HashKVRequest { Revision = revision },
                new CallOptions(Deadline: DateTime.UtcNow + PeerCallTimeout, CancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
