using System.Collections.Immutable;

using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Auth;
using CurpStore.Server.Configuration;
using CurpStore.Wire.Etcd;
using CurpStore.Server.Facade;
using CurpStore.Server.Hosting;
using CurpStore.Server.Metrics;
using CurpStore.Server.Members;
using CurpStore.Server.Storage;
using CurpStore.Server.Transport;
using CurpStore.Server.Watch;
using CurpStore.Wire;
using CurpStore.Store;
using CurpStore.Store.Faster;

namespace CurpStore.Server;

/// <summary>
/// One CurpStore member as a process: storage under --data-dir (WAL + snapshots), the etcd store replayed from it, the
/// node host, the peer listener (core messages) and the client listener (etcd's API). Built from
/// <see cref="ServerOptions"/>; <see cref="StopAsync"/> flushes and closes everything in order.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Proposer ids are the member id with the top bit flipped: unique per member, never a member id itself
    /// (member ids are hashes; a clash would need two 63-bit hashes to agree).</summary>
    public const ulong ProposerBit = 1UL << 63;

    /// <summary>etcd's grpcOverheadBytes: the client listener takes messages this much above --max-request-bytes.</summary>
    public const int GrpcOverheadBytes = 512 * 1024;

    /// <summary>Calls one client connection may carry at once. etcd (grpc-go) sets no limit, so etcd clients keep all
    /// their calls on one connection; Kestrel's default of 1,000 would make a busy client open more. The member's
    /// memory is bounded by the host's pending-request bound instead: calls over it are refused at once with "too many
    /// requests", which ends their streams.</summary>
    public const int MaxStreamsPerClientConnection = 100_000;

    /// <summary>The proposer id of the host of member <paramref name="memberId"/>.</summary>
    public static ulong ProposerIdOf(ulong memberId) => memberId ^ ProposerBit;

    /// <summary>The member whose peer address reaches <paramref name="endpointId"/>: the member itself, or the member
    /// whose host runs that proposer.</summary>
    public static ulong MemberOfEndpoint(ulong endpointId, IReadOnlySet<ulong> members) =>
        members.Contains(endpointId) ? endpointId : endpointId ^ ProposerBit;

    private readonly ServerOptions options;
    private readonly Action<string> log;
    private readonly TimeProvider time;
    private WalMemberStorage? storage;
    private FasterKvEngine? engine;
    private GrpcPeerTransport? transport;
    private ClientProposerStreams? clientStreams;
    private NodeHost? host;
    private LeaseKeeper? leaseKeeper;
    private CorruptionChecker? corruptionChecker;
    private EtcdStateMachine? machine;
    private GrpcServer? peerServer;
    private GrpcServer? clientServer;
    private GrpcServer? metricsServer;
    private MemberMetrics? metrics;
    private PrometheusExporter? exporter;
    private MemberDirectory? directory;
    private MemberPublisher? publisher;
    private TlsCredentials? clientTls;
    private TlsCredentials? peerTls;
    private PeerChannels? peerChannels;

    /// <summary>How long a joining member keeps asking the listed members for the member list.</summary>
    public static TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The cluster's members as this one sees them.</summary>
    public MemberDirectory Members => directory ?? throw new InvalidOperationException("not started");

    /// <summary>Completes when this member has applied its own removal from the cluster (etcd then stops).</summary>
    public Task Removed => publisher?.Removed ?? Task.Delay(Timeout.Infinite);

    /// <param name="time">The clock of auth token lifetimes (tests move it); the system clock by default.</param>
    public ServerProcess(ServerOptions options, Action<string> log, TimeProvider? time = null)
    {
        this.options = options;
        this.log = log;
        this.time = time ?? TimeProvider.System;
    }

    public static string Version => System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(ServerProcess).Assembly)?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public ulong MemberId { get; private set; }

    public ulong ClusterId { get; private set; }

    public NodeHost Host => host ?? throw new InvalidOperationException("not started");

    /// <summary>The member's store. It belongs to the host's loop thread: touch it only inside
    /// <see cref="NodeHost.InvokeAsync{T}"/>.</summary>
    public EtcdStateMachine Machine => machine ?? throw new InvalidOperationException("not started");

    /// <summary>The Watch service (its counters are what tests and metrics read).</summary>
    public WatchService Watches { get; private set; } = null!;

    public IReadOnlyList<Uri> ClientUrls => clientServer?.ListeningAddresses ?? [];

    /// <summary>Starts the member. A bad <c>--auth-token</c> key setup throws <see cref="ServerOptionsException"/> with
    /// etcd's message before anything is opened.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var jwt = options.AuthToken.Type == AuthTokenType.Jwt ? JwtTokenProvider.Create(options.AuthToken, time) : null;
        clientTls = TlsCredentials.Load(options.ClientTls, "");
        peerTls = TlsCredentials.Load(options.PeerTls, "peer-");
        var peerChannels = this.peerChannels = new PeerChannels(peerTls);
        Directory.CreateDirectory(options.DataDir);
        var identity = options.InitialClusterState == ClusterState.Existing
            ? await MemberIdentity.ForExistingClusterAsync(options, peerChannels, JoinTimeout, log, cancellationToken).ConfigureAwait(false)
            : MemberIdentity.ForNewCluster(options);
        MemberId = identity.MemberId;
        ClusterId = identity.ClusterId;
        directory = new MemberDirectory(identity.Bootstrap);
        var members = directory;
        var codec = new WireCodec(new EtcdCommandCodec());
        metrics = new MemberMetrics();
        exporter = new PrometheusExporter(metrics.Meter);
        storage = WalMemberStorage.Open(options.DataDir, codec, log, metrics.WalFsynced);
        // The store's records live in FASTER under the data dir; a checkpoint is taken with every snapshot, so a restart
        // recovers the checkpoint and replays only the log after it.
        engine = FasterKvEngine.Open(Path.Combine(options.DataDir, "store"));
        machine = new EtcdStateMachine(engine, new EtcdStoreOptions
        {
            MinLeaseTtlSeconds = EtcdStoreOptions.MinLeaseTtlSecondsFor(options.ElectionTimeoutMs),
            MaxTxnOps = options.MaxTxnOps,
        });
        var watchHub = new WatchHub(options.Watch.EventBufferMaxEvents, options.Watch.EventBufferMaxBytes, machine.Revision);
        if (storage.Load().Snapshot is null && machine.AppliedIndex > 0)
        {
            // The engine checkpointed a snapshot whose record never reached the WAL (a crash in between): the log
            // still starts at index 1, so the store must too.
            machine.RestoreSnapshot(EtcdSnapshot.Empty);
        }
        var simpleTokens = jwt is null ? new SimpleTokenProvider(machine, options.AuthToken.SimpleTokenTtlSeconds, time) : null;
        IAppliedStateObserver appliedObserver = simpleTokens is null
            ? new WatchHubFeed(watchHub, machine)
            : new AppliedStateObservers(new WatchHubFeed(watchHub, machine), simpleTokens);
        // Peers' addresses come from the configuration the core holds now, so a member added or moved is reachable as
        // soon as its change is in this member's log, and a removed one no longer is.
        transport = new GrpcPeerTransport(codec, id => members.PeerUrlOf(members.Contains(id) ? id : id ^ ProposerBit), log: log, channels: peerChannels);
        // External proposers connect on the client URL; messages for them leave through their streams, the rest through
        // the peer transport. No client may take a member's id or a member host's proposer id.
        var memberIds = identity.Bootstrap.All.ToHashSet();
        var reservedIds = memberIds.Concat(memberIds.Select(ProposerIdOf)).ToHashSet();
        clientStreams = new ClientProposerStreams(codec, transport, MemberId, reservedIds, message => Host.Deliver(message), log: log);
        host = new NodeHost(
            new HostOptions
            {
                Node = new NodeConfig
                {
                    NodeId = MemberId,
                    RandomSeed = MemberId ^ (ulong)Environment.ProcessId,
                    HeartbeatTicks = 1,
                    ElectionTimeoutTicks = Math.Max(2, options.ElectionTimeoutMs / options.HeartbeatIntervalMs),
                    // Entries kept behind a snapshot so a briefly lagging follower catches up from the log.
                    RetainEntriesAfterSnapshot = Math.Clamp(options.SnapshotCount / 10, 1, 5_000),
                    FastPath = options.FastPath,
                },
                TickInterval = TimeSpan.FromMilliseconds(options.HeartbeatIntervalMs),
                ProposerId = ProposerIdOf(MemberId),
                StrictRevisions = options.StrictRevisions,
                FastPath = options.FastPath,
                SnapshotEveryEntries = (ulong)options.SnapshotCount,
            },
            identity.Bootstrap, machine, storage, clientStreams, log, appliedObserver, metrics,
            debugLog: options.LogLevel == LogLevel.Debug ? log : null,
            // The periodic snapshot's image is read from the engine straight into its file: no copy of the store.
            snapshotWriter: index => storage.WriteImage(index, machine.TakeLiveSnapshot()))
        {
            MembershipChanged = members.Update,
        };

        var peerServerOptions = new GrpcServerOptions();
        if (!options.PeerTls.IsEmpty)
        {
            peerTls.ConfigureServer(peerServerOptions);
        }
        peerServer = new GrpcServer(peerServerOptions);
        new CurpDeliveryService(codec, message => host.Deliver(message), log).Register(peerServer);
        var clusterOptions = new ClusterServiceOptions { StrictReconfigCheck = options.StrictReconfigCheck };
        // As etcd: gRPC takes messages up to the request limit plus 512 KiB of overhead (larger ones get
        // RESOURCE_EXHAUSTED from gRPC); the facade refuses writes above the limit itself with etcd's message.
        var clientServerOptions = new GrpcServerOptions
        {
            MaxReceiveMessageSize = options.MaxRequestBytes + GrpcOverheadBytes,
            MaxConcurrentConnections = options.MaxClientConnections,
            MaxConcurrentStreamsPerConnection = MaxStreamsPerClientConnection,
            CallAdmission = (method, request) => MemberAdmission.Judge(Host.Status, MemberId, Removed.IsCompleted, method, request),
            CallLimit = WriteAdmission.Limit(options.MaxWritesInFlight),
        };
        if (!options.ClientTls.IsEmpty)
        {
            clientTls.ConfigureServer(clientServerOptions);
        }
        clientServer = new GrpcServer(clientServerOptions);
        var authGate = new AuthGate(machine, (IAuthTokenProvider?)jwt ?? simpleTokens!);
        var facade = new EtcdFacadeContext(host, machine, authGate, ClusterId, MemberId) { MaxRequestBytes = options.MaxRequestBytes, QuotaBackendBytes = options.EffectiveQuotaBackendBytes, Peers = peerChannels, BackendDirectory = engine.Directory };
        // As etcd serves /members/hashkv on the peer URL: the leader's corruption check asks the others there.
        peerServer.AddUnaryMethod(Rpc.Etcd.MaintenanceMethods.HashKV, (request, context) => KvHash.ComputeAsync(facade, request.Revision, context.CancellationToken));
        new KvService(facade).Register(clientServer);
        new AuthService(facade).Register(clientServer);
        new MaintenanceService(facade, members).Register(clientServer);
        var cluster = new ClusterService(facade, members, clusterOptions, log);
        cluster.Register(clientServer, peerListener: false);
        cluster.Register(peerServer, peerListener: true);
        var leases = new LeaseService(facade, members.PeerUrlOf);
        leases.Register(clientServer);
        leases.RegisterLeaderAnswers(peerServer);
        Watches = new WatchService(facade, watchHub, options.Watch);
        Watches.Register(clientServer);
        var recipes = new KeyRecipes(facade, watchHub);
        new LockService(recipes).Register(clientServer);
        new ElectionService(recipes).Register(clientServer);
        clientStreams.Register(clientServer);
        RegisterHttpResources(clientServer, exporter, host);
        leaseKeeper = new LeaseKeeper(host, machine, options.ElectionTimeoutMs, TimeSpan.FromMilliseconds(Math.Min(options.HeartbeatIntervalMs, 500)), log);

        // etcd checks only a member that restarts on its data: a new one has nothing to compare yet.
        var memberInitialized = storage.Load() is { } persisted && (persisted.Snapshot is not null || !persisted.Entries.IsEmpty);
        host.Start();
        if (options.InitialCorruptCheck && memberInitialized)
        {
            await CorruptionChecker.CheckInitialAsync(facade, members, log, cancellationToken).ConfigureAwait(false);
        }
        leaseKeeper.Start();
        if (options.CorruptCheckInterval > TimeSpan.Zero)
        {
            corruptionChecker = new CorruptionChecker(facade, members, options.CorruptCheckInterval, log);
            corruptionChecker.Start();
        }
        await peerServer.ListenAsync(options.ListenPeerUrls, cancellationToken).ConfigureAwait(false);
        await clientServer.ListenAsync(options.ListenClientUrls, cancellationToken).ConfigureAwait(false);
        if (!options.ListenMetricsUrls.IsEmpty)
        {
            metricsServer = new GrpcServer(new GrpcServerOptions { Http1Only = true });
            RegisterHttpResources(metricsServer, exporter, host);
            await metricsServer.ListenAsync(options.ListenMetricsUrls, cancellationToken).ConfigureAwait(false);
        }
        log($"member {options.Name} ({MemberId:x16}) of cluster {ClusterId:x16}: clients on {string.Join(',', clientServer.ListeningAddresses)}, "
            + $"peers on {string.Join(',', peerServer.ListeningAddresses)}, data in {Path.GetFullPath(options.DataDir)}");
        publisher = new MemberPublisher(members, MemberId, new MemberAttributes(options.Name, [], [.. options.AdvertiseClientUrls.Select(MemberAttributes.Normalize)]),
            peerServer.ListeningAddresses[0], () => Host.Status, log, peerChannels);
        publisher.Start();
        if (host.Status.Members.All.Count() == 1 && host.Status.Members.Voters.Contains(MemberId))
        {
            // Alone: no need to wait an election timeout before serving.
            await host.InvokeAsync(node => { node.StartElection(); return true; }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The member's metrics (what <c>GET /metrics</c> renders).</summary>
    public MemberMetrics Metrics => metrics ?? throw new InvalidOperationException("not started");

    /// <summary><c>GET /metrics</c> (Prometheus text format 0.0.4) and <c>GET /health</c> (etcd's answer: healthy
    /// while the member knows a leader) on the client URL, as etcd serves them there.</summary>
    private static void RegisterHttpResources(GrpcServer server, PrometheusExporter exporter, NodeHost host)
    {
        server.AddHttpGet("/metrics", _ => Task.FromResult(new HttpGetResponse(200, PrometheusExporter.ContentType, exporter.Render())));
        server.AddHttpGet("/health", _ => Task.FromResult(host.Status.LeaderId != 0
            ? new HttpGetResponse(200, "application/json", "{\"health\":\"true\",\"reason\":\"\"}")
            : new HttpGetResponse(503, "application/json", "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}")));
    }

    /// <summary>Stops accepting, lets the host finish its turn and flush, then closes the storage.</summary>
    public async Task StopAsync()
    {
        if (publisher is not null)
        {
            await publisher.DisposeAsync().ConfigureAwait(false);
        }
        if (clientServer is not null)
        {
            await clientServer.DisposeAsync().ConfigureAwait(false);
        }
        if (metricsServer is not null)
        {
            await metricsServer.DisposeAsync().ConfigureAwait(false);
        }
        if (peerServer is not null)
        {
            await peerServer.DisposeAsync().ConfigureAwait(false);
        }
        if (leaseKeeper is not null)
        {
            await leaseKeeper.DisposeAsync().ConfigureAwait(false);
        }
        if (corruptionChecker is not null)
        {
            await corruptionChecker.DisposeAsync().ConfigureAwait(false);
        }
        if (host is not null)
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }
        if (transport is not null)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        storage?.Dispose();
        engine?.Dispose();
        clientTls?.Dispose();
        peerChannels?.Dispose(); // after everything that calls peers through it
        peerTls?.Dispose();
        exporter?.Dispose();
        metrics?.Dispose();
        log($"member {options.Name} stopped");
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
