using System.Diagnostics;
using System.Globalization;
using System.Text;
using CurpStore.Checker;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults;

/// <summary>What a fault run found.</summary>
/// <param name="Options">The run's settings (the seed replays the schedule).</param>
/// <param name="Schedule">The schedule drawn from the seed.</param>
/// <param name="Done">Steps carried out in full.</param>
/// <param name="NemesisFailures">Steps that could not be carried out (a cluster call that did not succeed in time).</param>
/// <param name="Operations">Client operations recorded.</param>
/// <param name="Indeterminate">Writes whose outcome is unknown.</param>
/// <param name="Acknowledged">Writes answered as done.</param>
/// <param name="EffectsOnly">The checker's verdict under the effects-only model.</param>
/// <param name="Strict">The checker's verdict under the strict model (required only with strict revisions).</param>
/// <param name="LostWrites">Acknowledged writes missing from the history, and writes applied twice.</param>
/// <param name="WatchProblems">Watch order, gap, duplicate and prev_kv problems, and members' final-state differences.</param>
/// <param name="WatchEvents">Events the run-long watchers received in all.</param>
/// <param name="FinalRevision">Highest mod revision of the key space at the end.</param>
/// <param name="Root">Where the data dirs and member logs are.</param>
public sealed record FaultVerdict(
    FaultOptions Options,
    IReadOnlyList<NemesisStep> Schedule,
    IReadOnlyList<NemesisStep> Done,
    IReadOnlyList<string> NemesisFailures,
    long Operations,
    long Indeterminate,
    long Acknowledged,
    CheckResult EffectsOnly,
    CheckResult Strict,
    IReadOnlyList<string> LostWrites,
    IReadOnlyList<string> WatchProblems,
    long WatchEvents,
    long FinalRevision,
    string Root)
{
    /// <summary>No violation under effects-only (and strict with strict revisions), no lost write, clean watches.</summary>
    public bool Passed => EffectsOnly.IsLinearizable && (!Options.StrictRevisions || Strict.IsLinearizable) && LostWrites.Count == 0 && WatchProblems.Count == 0;

    /// <summary>The verdict as printed at the end of a run.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"seed {Options.Seed}, {Options.Members} members, {Options.Seconds} s, {(Options.StrictRevisions ? "--strict-revisions" : "default (curp) revisions")}");
        text.AppendLine(culture, $"nemesis: {Done.Count} of {Schedule.Count} steps done ({string.Join(", ", Done.GroupBy(s => s.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}"))}); {NemesisFailures.Count} failed");
        foreach (var failure in NemesisFailures)
        {
            text.AppendLine(culture, $"  nemesis step failed: {failure}");
        }
        text.AppendLine(culture, $"operations: {Operations} recorded, {Acknowledged} writes acknowledged, {Indeterminate} with unknown outcome; final revision {FinalRevision}; {WatchEvents} watch events");
        Model("effects-only", EffectsOnly, required: true);
        Model("strict", Strict, required: Options.StrictRevisions);
        text.AppendLine(culture, $"lost or doubled acknowledged writes: {LostWrites.Count}");
        foreach (var lost in LostWrites.Take(20))
        {
            text.AppendLine(culture, $"  {lost}");
        }
        text.AppendLine(culture, $"watch and convergence problems: {WatchProblems.Count}");
        foreach (var problem in WatchProblems.Take(20))
        {
            text.AppendLine(culture, $"  {problem}");
        }
        text.AppendLine(culture, $"verdict: {(Passed ? "PASS" : "FAIL")} (replay the schedule with --seed {Options.Seed}; member logs {(Passed && NemesisFailures.Count == 0 && !Options.KeepData ? "deleted" : "in " + Root)})");
        return text.ToString();

        void Model(string name, CheckResult result, bool required)
        {
            text.AppendLine(culture, $"linearizability ({name}{(required ? "" : ", informational: the default mode does not promise it")}): {result.Violations.Count} violations, {result.UnknownKeys.Count} undecided keys, {result.StatesExplored} states over {result.Partitions} keys");
            foreach (var violation in result.Violations.Take(10))
            {
                text.AppendLine(culture, $"  {violation.Key}: {violation.Description}");
            }
        }
    }
}

/// <summary>
/// One fault run: starts the members, runs the clients and watchers, carries out the nemesis schedule, heals, waits
/// (bounded) for the members to converge, reads the final state and checks everything recorded.
/// </summary>
public static class FaultRun
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    /// <summary>Time the schedule's faults may take: the faulty phase less a few quiet seconds at its end.</summary>
    public static int FaultTimeMs(FaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (options.Seconds - 5) * 1000;
    }

    /// <summary>Runs <paramref name="options"/>; <paramref name="log"/> gets the seed and schedule first, then progress.</summary>
    public static async Task<FaultVerdict> RunAsync(FaultOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var schedule = NemesisSchedule.Draw(options.Seed, options.Members, FaultTimeMs(options));
        log($"fault run: seed {options.Seed} (replay with --seed {options.Seed}), {options.Members} members, {options.Seconds} s{(options.StrictRevisions ? ", --strict-revisions" : "")}");
        log($"schedule ({schedule.Count} steps; the schedule replays, the timing of real processes does not):\n{NemesisSchedule.Describe(schedule).TrimEnd()}");
        var root = Directory.CreateTempSubdirectory($"curpstore-faults-{options.Seed}-").FullName;
        var watch = Stopwatch.StartNew();
        void Log(string line) => log(string.Create(CultureInfo.InvariantCulture, $"[{watch.Elapsed.TotalSeconds,6:F1}s] {line}"));
        FaultVerdict verdict;
        var cluster = await MemberCluster.CreateAsync(root, options.Members, options.StrictRevisions ? ["--strict-revisions"] : [], Log).ConfigureAwait(false);
        await using (cluster.ConfigureAwait(false))
        {
            cluster.StartAll();
            if (!await cluster.WaitForLeaderEverywhereAsync(WaitLimit).ConfigureAwait(false))
            {
                throw new TimeoutException($"the cluster did not elect a leader within {WaitLimit}; logs in {root}");
            }
            Log("cluster up");
            var workload = new Workload(cluster, options.Keys, Log);
            var watchers = Enumerable.Range(0, options.Members).Select(slot => new WatchRecorder($"watcher on {cluster.Name(slot)}", () => cluster.Channel(slot))).ToList();
            using var stopWatchers = new CancellationTokenSource();
            using var stopClients = new CancellationTokenSource();
            var watching = watchers.Select(w => Task.Run(() => w.RunAsync(stopWatchers.Token))).ToList();
            var clients = Enumerable.Range(0, options.Members * options.ClientsPerMember)
                .Select(c => Task.Run(() => workload.RunClientAsync(c, c % options.Members, HashCode.Combine(options.Seed, c), stopClients.Token))).ToList();

            var nemesis = new Nemesis(cluster, workload, Log);
            var faultDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(options.Seconds);
            var done = new List<NemesisStep>();
            var failures = new List<string>();
            foreach (var step in schedule)
            {
                if (DateTime.UtcNow + TimeSpan.FromMilliseconds(step.GapBeforeMs + step.DurationMs) > faultDeadline)
                {
                    Log($"no time left for step #{step.Index} and later");
                    break;
                }
                await Task.Delay(step.GapBeforeMs).ConfigureAwait(false);
                Log($"step {step}");
                try
                {
                    await nemesis.RunAsync(step).ConfigureAwait(false);
                    done.Add(step);
                }
                catch (Exception e) when (e is TimeoutException || MemberCluster.IsCallFailure(e))
                {
                    failures.Add($"{step}: {e.Message}");
                    Log($"step #{step.Index} failed: {e.Message}");
                    cluster.HealAll();
                }
                if (!await cluster.WaitForLeaderEverywhereAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
                {
                    Log("not every member names a leader 30 s after the step");
                }
            }
            var rest = faultDeadline - DateTime.UtcNow;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest).ConfigureAwait(false);
            }
            await stopClients.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(clients).ConfigureAwait(false);
            Log($"clients stopped: {workload.Recorded} operations, {workload.Indeterminate} with unknown outcome; healing");
            cluster.HealAll();
            if (!await cluster.WaitForLeaderEverywhereAsync(WaitLimit).ConfigureAwait(false))
            {
                Log($"not every member names a leader {WaitLimit.TotalSeconds} s after healing");
            }

            var problems = new List<string>();
            var final = await ConvergedStateAsync(cluster, problems, Log).ConfigureAwait(false);
            var finalRevision = final.Count == 0 ? 0 : final.Max(kv => kv.ModRevision);

            var reference = new WatchRecorder("reference watcher", () => cluster.Channel(cluster.MemberSlots[0]));
            using (var stopReference = new CancellationTokenSource())
            {
                var referenceRun = Task.Run(() => reference.RunAsync(stopReference.Token));
                if (!await reference.WaitForRevisionAsync(finalRevision, WaitLimit).ConfigureAwait(false))
                {
                    problems.Add($"the reference watcher reached revision {reference.LastRevision}, not {finalRevision}, within {WaitLimit}");
                }
                await stopReference.CancelAsync().ConfigureAwait(false);
                await referenceRun.ConfigureAwait(false);
            }
            foreach (var watcher in watchers)
            {
                if (!await watcher.WaitForRevisionAsync(finalRevision, WaitLimit).ConfigureAwait(false))
                {
                    problems.Add($"{watcher.Name} reached revision {watcher.LastRevision}, not {finalRevision}, within {WaitLimit} ({watcher.Responses} responses, {watcher.Reconnects} reconnects)");
                }
            }
            await stopWatchers.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(watching).ConfigureAwait(false);
            Log($"watchers stopped ({string.Join(", ", watchers.Select(w => $"{w.Name}: {w.Events.Count} events in {w.Responses} responses, {w.Reconnects} reconnects"))}); checking");

            var referenceEvents = reference.Events;
            problems.AddRange(reference.Problems);
            problems.AddRange(WatchChecker.CheckStream(reference.Name, referenceEvents));
            problems.AddRange(WatchChecker.CompareToFinalState(referenceEvents, final));
            foreach (var watcher in watchers)
            {
                problems.AddRange(watcher.Problems);
                problems.AddRange(WatchChecker.CheckStream(watcher.Name, watcher.Events));
                problems.AddRange(WatchChecker.CompareToReference(watcher.Name, watcher.Events, referenceEvents));
            }
            var history = workload.History;
            var acknowledged = workload.Acknowledged().ToList();
            var lost = WatchChecker.LostOrDoubledWrites(acknowledged, referenceEvents);
            var effectsOnly = new LinearizabilityChecker(ConsistencyModel.EffectsOnly).Check(history);
            var strict = new LinearizabilityChecker(ConsistencyModel.Strict).Check(history);
            verdict = new FaultVerdict(options, schedule, done, failures, history.Count, workload.Indeterminate, acknowledged.Count,
                effectsOnly, strict, lost, problems, watchers.Sum(w => (long)w.Events.Count), finalRevision, root);
        }
        if (verdict.Passed && verdict.NemesisFailures.Count == 0 && !options.KeepData)
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // a file still held for a moment: the temp folder is cleaned by the system
            }
        }
        return verdict;
    }

    /// <summary>Reads the key space linearizably until two reads 1 s apart agree (late unknown-outcome writes may still
    /// land after healing), then waits (bounded) until every member's serializable read holds the same; a member that
    /// does not is a problem.</summary>
    private static async Task<IReadOnlyList<FinalKv>> ConvergedStateAsync(MemberCluster cluster, List<string> problems, Action<string> log)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        IReadOnlyList<FinalKv>? previous = null;
        IReadOnlyList<FinalKv>? final = null;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var slot in cluster.MemberSlots)
            {
                try
                {
                    var read = await RangeAsync(cluster.Channel(slot), serializable: false).ConfigureAwait(false);
                    if (previous is not null && read.SequenceEqual(previous))
                    {
                        final = read;
                    }
                    previous = read;
                    break;
                }
                catch (Exception e) when (MemberCluster.IsCallFailure(e))
                {
                    // ask the next member
                }
            }
            if (final is not null)
            {
                break;
            }
            await Task.Delay(1000).ConfigureAwait(false);
        }
        if (final is null)
        {
            throw new TimeoutException($"no stable linearizable read of the key space within {WaitLimit}");
        }
        log($"final state: {final.Count} keys, highest revision {(final.Count == 0 ? 0 : final.Max(kv => kv.ModRevision))}");
        var membersDeadline = DateTime.UtcNow + WaitLimit;
        foreach (var slot in cluster.MemberSlots)
        {
            IReadOnlyList<FinalKv>? held = null;
            string? failure = null;
            while (DateTime.UtcNow < membersDeadline)
            {
                try
                {
                    held = await RangeAsync(cluster.Channel(slot), serializable: true).ConfigureAwait(false);
                    if (held.SequenceEqual(final))
                    {
                        break;
                    }
                }
                catch (Exception e) when (MemberCluster.IsCallFailure(e))
                {
                    failure = e.Message;
                }
                await Task.Delay(500).ConfigureAwait(false);
            }
            if (held is null || !held.SequenceEqual(final))
            {
                var missing = held is null ? "it did not answer: " + failure : string.Join(", ", final.Except(held).Select(kv => $"{kv.Key}='{kv.Value}'@{kv.ModRevision}"));
                problems.Add($"{cluster.Name(slot)} does not hold the final state: {missing} (log {cluster.LogPath(slot)})");
            }
        }
        return final;
    }

    private static async Task<IReadOnlyList<FinalKv>> RangeAsync(GrpcChannel channel, bool serializable)
    {
        var prefix = Encoding.UTF8.GetBytes(Workload.Prefix);
        var response = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest
        {
            Key = ByteString.CopyFrom(prefix),
            RangeEnd = ByteString.CopyFrom(Curp.KeyRange.PrefixEnd(prefix)),
            Serializable = serializable,
        }, MemberCluster.Deadline()).ConfigureAwait(false);
        return [.. response.Kvs.Select(kv => new FinalKv(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.ModRevision, kv.Version))];
    }
}
