using System.Collections.Immutable;
using CurpStore.Server.Auth;
using CurpStore.Server.Watch;

namespace CurpStore.Server.Configuration;

/// <summary>How a CurpStore member is started. Names and defaults follow etcd's flags, so deployment scripts written
/// for etcd carry over; <see cref="DataDir"/> defaults to <c>default.curpstore</c> instead of etcd's <c>default.etcd</c>.</summary>
public sealed record ServerOptions
{
    public string Name { get; init; } = "default";

    public string DataDir { get; init; } = "default.curpstore";

    public ImmutableArray<Uri> ListenClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    public ImmutableArray<Uri> AdvertiseClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    public ImmutableArray<Uri> ListenPeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>Extra URLs serving only <c>/metrics</c> and <c>/health</c> over HTTP/1.1 (etcd's flag), for scrapers
    /// that do not speak h2c; the client URLs serve both over HTTP/2 too. Empty by default.</summary>
    public ImmutableArray<Uri> ListenMetricsUrls { get; init; } = [];

    public ImmutableArray<Uri> InitialAdvertisePeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>name=peer-url pairs. Empty means "this member alone": name=initial-advertise-peer-urls.</summary>
    public ImmutableArray<InitialMember> InitialCluster { get; init; } = [];

    public ClusterState InitialClusterState { get; init; } = ClusterState.New;

    public string InitialClusterToken { get; init; } = "etcd-cluster";

    public int HeartbeatIntervalMs { get; init; } = 100;

    public int ElectionTimeoutMs { get; init; } = 1_000;

    public LogLevel LogLevel { get; init; } = LogLevel.Info;

    /// <summary>Applied entries between two snapshots (etcd's --snapshot-count; etcd 3.5's default is 100,000).</summary>
    public int SnapshotCount { get; init; } = 100_000;

    /// <summary>Strict revisions: a write is answered once its log position is final (see README).</summary>
    public bool StrictRevisions { get; init; }

    /// <summary>CURP's fast path (<c>--experimental-fast-path</c>, default on). Off, the leader orders every write and the
    /// member answers its clients only after the write is applied (Raft as etcd runs it): the baseline the geo benchmark
    /// compares with.</summary>
    public bool FastPath { get; init; } = true;

    /// <summary>etcd's --max-request-bytes: a larger write is refused with "etcdserver: request is too large"
    /// (etcd's default 1.5 MiB).</summary>
    public int MaxRequestBytes { get; init; } = 1_572_864;

    /// <summary>etcd's --max-txn-ops: operations allowed in one txn, in each of its branches (default 128).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>etcd write calls (Put, DeleteRange, Txn) served at once; more wait for a place or are refused with "too many
    /// requests" (<see cref="Facade.WriteAdmission"/>). 256 keeps a one-member store's admitted rate under 10x overload
    /// at etcd's share of its sustainable rate (README "Overload"; 1,024 kept 53-58%, against etcd's 63%): each write in
    /// flight costs CPU for as long as it is in flight. At a commit latency of 100 ms, 256 in flight allow 2,560 writes a
    /// second per member, hence the flag for wide-area clusters.</summary>
    public int MaxWritesInFlight { get; init; } = 256;

    /// <summary>The largest --experimental-max-writes-in-flight: with 16 waiting per place, about a million calls held.</summary>
    public const int MaxWritesInFlightLimit = 65_536;

    /// <summary>Connections the client URLs accept at once; more are closed as soon as they are accepted (clients see
    /// UNAVAILABLE). etcd has no such bound; no flag sets it.</summary>
    public long MaxClientConnections { get; init; } = 10_000;

    /// <summary>etcd's --quota-backend-bytes: a write that would grow the store's size (<c>dbSize</c>) to this many
    /// bytes raises NOSPACE. 0 means etcd's default of 2 GiB, a negative value no quota.</summary>
    public long QuotaBackendBytes { get; init; }

    /// <summary>The quota in force: <see cref="QuotaBackendBytes"/> with etcd's meaning of 0 (2 GiB) and of a negative
    /// value (none: <see cref="long.MaxValue"/>).</summary>
    public long EffectiveQuotaBackendBytes => QuotaBackendBytes switch
    {
        0 => DefaultQuotaBackendBytes,
        < 0 => long.MaxValue,
        _ => QuotaBackendBytes,
    };

    /// <summary>etcd's --experimental-corrupt-check-time: how often the leader compares every member's HashKV and
    /// raises CORRUPT for one that differs (<see cref="TimeSpan.Zero"/>, the default: never).</summary>
    public TimeSpan CorruptCheckInterval { get; init; }

    /// <summary>etcd's --experimental-initial-corrupt-check: a member restarted on its data compares its HashKV with
    /// every peer's at its revision before it serves clients, and refuses to start on a difference.</summary>
    public bool InitialCorruptCheck { get; init; }

    /// <summary>etcd's --strict-reconfig-check (default true): refuse membership changes that could cost the quorum.</summary>
    public bool StrictReconfigCheck { get; init; } = true;

    /// <summary>etcd's DefaultQuotaBytes (2 GiB).</summary>
    public const long DefaultQuotaBackendBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>etcd's --auth-token (simple, or jwt with its options) and --auth-token-ttl.</summary>
    public AuthTokenOptions AuthToken { get; init; } = new();

    public string? ConfigFile { get; init; }

    /// <summary>TLS of the client URLs (<c>--cert-file</c>, <c>--key-file</c>, <c>--trusted-ca-file</c>,
    /// <c>--client-cert-auth</c>; the config file's <c>client-transport-security</c>).</summary>
    public TlsInfo ClientTls { get; init; } = new();

    /// <summary>TLS of the peer URLs and of every connection to other members (<c>--peer-cert-file</c>,
    /// <c>--peer-key-file</c>, <c>--peer-trusted-ca-file</c>, <c>--peer-client-cert-auth</c>; the config file's
    /// <c>peer-transport-security</c>).</summary>
    public TlsInfo PeerTls { get; init; } = new();

    /// <summary>The Watch service's bounds and progress interval (<c>--experimental-watch-progress-notify-interval</c>
    /// sets <see cref="WatchOptions.ProgressNotifyInterval"/>; the buffer sizes have no flag).</summary>
    public WatchOptions Watch { get; init; } = new();

    /// <summary>The members this one starts with: <see cref="InitialCluster"/>, or itself alone.</summary>
    public ImmutableArray<InitialMember> EffectiveInitialCluster =>
        InitialCluster.IsDefaultOrEmpty ? [.. InitialAdvertisePeerUrls.Select(url => new InitialMember(Name, url))] : InitialCluster;
}

public sealed record InitialMember(string Name, Uri PeerUrl);

public enum ClusterState
{
    New,
    Existing,
}

public enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}
