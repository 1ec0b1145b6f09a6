using System.Diagnostics.Metrics;
using CurpStore.Curp;
using CurpStore.Rpc.Etcd;

namespace CurpStore.Server.Metrics;

/// <summary>
/// One member's metrics as <see cref="System.Diagnostics.Metrics"/> instruments on a meter of its own (several members
/// may share a process in tests), named as Prometheus shows them (<see cref="PrometheusExporter"/> renders them) and,
/// where etcd has the metric, as etcd names it. The host counts from what the core reports (each completion carries its
/// path; the core's counters; its indexes); clocks are read here, never in the core. Counters are plain fields read by
/// observable instruments, so every series exists (at 0) before its first event.
/// </summary>
public sealed class MemberMetrics : IDisposable
{
    /// <summary>Commit latency buckets: 0.25 ms to about 8 s, doubling (loopback commits take about a millisecond,
    /// wide-area ones tens to hundreds).</summary>
    public static readonly IReadOnlyList<double> CommitBucketsSeconds = [.. Enumerable.Range(0, 16).Select(i => 0.00025 * Math.Pow(2, i))];

    /// <summary>etcd's buckets for <c>etcd_disk_wal_fsync_duration_seconds</c>: 1 ms to about 8 s, doubling.</summary>
    public static readonly IReadOnlyList<double> WalFsyncBucketsSeconds = [.. Enumerable.Range(0, 14).Select(i => 0.001 * Math.Pow(2, i))];

    private static readonly string[] PathLabels = [CommitPathTrailer.Fast, CommitPathTrailer.CommitNotice, CommitPathTrailer.Slow];

    private readonly long[] committedByPath = new long[PathLabels.Length];
    private readonly Histogram<double> commitDuration;
    private readonly Histogram<double> walFsyncDuration;
    private long proposalsFailed;
    private long leaderChanges;
    private long writesInFlight;
    private long readsInFlight;

    // Published by the host's loop after every turn (single writer; readers may see a turn's fields torn, which a
    // scrape tolerates).
    private long hasLeader;
    private long isLeader;
    private long commitIndex;
    private long appliedIndex;
    private long leaderConflicts;
    private long witnessConflicts;
    private long recoveredCommands;

    public MemberMetrics()
    {
        Meter = new Meter("CurpStore.Server");
        Meter.CreateObservableCounter("curpstore_proposals_committed_total",
            () => PathLabels.Select((path, i) => new Measurement<long>(Volatile.Read(ref committedByPath[i]), new KeyValuePair<string, object?>("path", path))),
            description: "Writes this member proposed (for its etcd clients and its own lease expiries) that completed, by commit path: fast (leader's speculative result and a super-quorum of witnesses), commit_notice (durable on a majority, told by the followers), slow (the leader's answer after apply).");
        Meter.CreateObservableGauge("curpstore_fast_path_ratio", FastPathRatio,
            description: "Share of this member's completed writes that completed on the fast path (0 before the first).");
        commitDuration = Meter.CreateHistogram("curpstore_proposal_commit_duration_seconds", "s",
            "Time from this member proposing a write until it completed, by commit path.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBucketsSeconds });
        Meter.CreateObservableCounter("curpstore_conflicts_total",
            () => new[]
            {
                new Measurement<long>(Volatile.Read(ref leaderConflicts), new KeyValuePair<string, object?>("kind", "leader")),
                new Measurement<long>(Volatile.Read(ref witnessConflicts), new KeyValuePair<string, object?>("kind", "witness")),
            },
            description: "Fast-path conflicts seen by this member: as leader, a write overlapping an uncommitted or speculative one (it goes the slow way); as witness, a write refused because it overlaps one in the speculative pool.");
        Meter.CreateObservableCounter("curpstore_recovered_commands_total", () => Volatile.Read(ref recoveredCommands),
            description: "Commands this member re-proposed from the witnesses' pools after it became leader.");
        Meter.CreateObservableGauge("curpstore_proposals_in_flight",
            () => new[]
            {
                new Measurement<long>(Volatile.Read(ref writesInFlight), new KeyValuePair<string, object?>("kind", "write")),
                new Measurement<long>(Volatile.Read(ref readsInFlight), new KeyValuePair<string, object?>("kind", "read")),
            },
            description: "Writes and linearizable reads this member proposed that have not completed yet.");
        Meter.CreateObservableGauge("curpstore_apply_lag_entries", () => Math.Max(0, Volatile.Read(ref commitIndex) - Volatile.Read(ref appliedIndex)),
            description: "Committed log entries this member has not applied yet.");
        Meter.CreateObservableGauge("etcd_server_has_leader", () => Volatile.Read(ref hasLeader),
            description: "Whether or not a leader exists. 1 is existence, 0 is not.");
        Meter.CreateObservableGauge("etcd_server_is_leader", () => Volatile.Read(ref isLeader),
            description: "Whether or not this member is a leader. 1 if is, 0 otherwise.");
        Meter.CreateObservableCounter("etcd_server_leader_changes_seen_total", () => Volatile.Read(ref leaderChanges),
            description: "The number of leader changes seen.");
        Meter.CreateObservableGauge("etcd_server_proposals_committed_total", () => Volatile.Read(ref commitIndex),
            description: "The total number of consensus proposals committed.");
        Meter.CreateObservableGauge("etcd_server_proposals_applied_total", () => Volatile.Read(ref appliedIndex),
            description: "The total number of consensus proposals applied.");
        Meter.CreateObservableGauge("etcd_server_proposals_pending", () => Volatile.Read(ref writesInFlight),
            description: "The current number of pending proposals to commit.");
        Meter.CreateObservableCounter("etcd_server_proposals_failed_total", () => Volatile.Read(ref proposalsFailed),
            description: "The total number of failed proposals seen.");
        walFsyncDuration = Meter.CreateHistogram("etcd_disk_wal_fsync_duration_seconds", "s",
            "The latency distributions of fsync called by WAL.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WalFsyncBucketsSeconds });
        AddProcessInstruments();
    }

    /// <summary>The process's memory and CPU and the GC's view of its heap: etcd's process collector names for the first
    /// two, <c>dotnet_gc_*</c> for what Go's <c>go_memstats_*</c> tell an etcd operator. The GC figures are as of the last
    /// collection; resident memory above the committed heap is native memory (FASTER's pages, Kestrel's buffers).</summary>
    private void AddProcessInstruments()
    {
        Meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet,
            description: "Resident memory size in bytes.");
        Meter.CreateObservableCounter("process_cpu_seconds_total", () => Environment.CpuUsage.TotalTime.TotalSeconds,
            description: "Total user and system CPU time spent in seconds.");
        Meter.CreateObservableGauge("dotnet_gc_heap_size_bytes", () => GC.GetGCMemoryInfo().HeapSizeBytes,
            description: "Bytes of the GC heap after the last collection, free space included.");
        Meter.CreateObservableGauge("dotnet_gc_fragmented_bytes", () => GC.GetGCMemoryInfo().FragmentedBytes,
            description: "Free space inside the GC heap after the last collection.");
        Meter.CreateObservableGauge("dotnet_gc_committed_bytes", () => GC.GetGCMemoryInfo().TotalCommittedBytes,
            description: "Memory the GC has committed for its heap.");
        Meter.CreateObservableCounter("dotnet_gc_allocated_bytes_total", () => GC.GetTotalAllocatedBytes(),
            description: "Bytes allocated on the GC heap since the process started.");
        Meter.CreateObservableCounter("dotnet_gc_collections_total",
            () => Enumerable.Range(0, GC.MaxGeneration + 1).Select(generation =>
                new Measurement<long>(GC.CollectionCount(generation), new KeyValuePair<string, object?>("generation", generation.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            description: "Garbage collections since the process started, by the oldest generation collected (each older one also counts in the younger ones).");
    }

    public Meter Meter { get; }

    /// <summary>A command entered the host (any thread).</summary>
    public void Started(bool read) => Interlocked.Increment(ref read ? ref readsInFlight : ref writesInFlight);

    /// <summary>A command the host <see cref="Started"/> completed after <paramref name="elapsed"/>.</summary>
    public void Completed(Completion completion, bool read, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(completion);
        Interlocked.Decrement(ref read ? ref readsInFlight : ref writesInFlight);
        if (read)
        {
            return;
        }
        if (!completion.Succeeded)
        {
            Failed();
            return;
        }
        var path = PathIndex(completion.Path);
        Interlocked.Increment(ref committedByPath[path]);
        commitDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("path", PathLabels[path]));
    }

    /// <summary>The <c>path</c> label of a write's completion path: fast, commit_notice or slow.</summary>
    public static string PathLabel(CompletionPath path) => PathLabels[PathIndex(path)];

    private static int PathIndex(CompletionPath path) => path switch
    {
        CompletionPath.Fast => 0,
        CompletionPath.CommitNotice => 1,
        _ => 2,
    };

    /// <summary>A write failed before it was started (a full inbox) or after (any error).</summary>
    public void Failed() => Interlocked.Increment(ref proposalsFailed);

    /// <summary>The member saw a new leader (not "no leader").</summary>
    public void LeaderChanged() => Interlocked.Increment(ref leaderChanges);

    /// <summary>What the core reports after a loop turn.</summary>
    public void Publish(ulong nodeId, ulong leaderId, ulong commit, ulong applied, NodeCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        Volatile.Write(ref hasLeader, leaderId == 0 ? 0 : 1);
        Volatile.Write(ref isLeader, leaderId == nodeId ? 1 : 0);
        Volatile.Write(ref commitIndex, (long)commit);
        Volatile.Write(ref appliedIndex, (long)applied);
        Volatile.Write(ref leaderConflicts, counters.LeaderConflicts);
        Volatile.Write(ref witnessConflicts, counters.WitnessConflicts);
        Volatile.Write(ref recoveredCommands, counters.RecoveredCommands);
    }

    /// <summary>The WAL's writer finished one fsync.</summary>
    public void WalFsynced(TimeSpan elapsed) => walFsyncDuration.Record(elapsed.TotalSeconds);

    /// <summary>Completed writes by path: fast, commit notice, slow.</summary>
    public (long Fast, long CommitNotice, long Slow) CommittedByPath =>
        (Volatile.Read(ref committedByPath[0]), Volatile.Read(ref committedByPath[1]), Volatile.Read(ref committedByPath[2]));

    private double FastPathRatio()
    {
        var (fast, notice, slow) = CommittedByPath;
        var total = fast + notice + slow;
        return total == 0 ? 0 : (double)fast / total;
    }

    public void Dispose() => Meter.Dispose();
}
