using System.Globalization;

namespace CurpStore.Faults;

/// <summary>Carries out one step of the schedule against the cluster; every fault is bounded in time and undone
/// before the step returns.</summary>
internal sealed class Nemesis(MemberCluster cluster, Workload workload, Action<string> log)
{
    /// <summary>Bound on each cluster change (remove, add) of a step.</summary>
    private static readonly TimeSpan ChangeLimit = TimeSpan.FromSeconds(30);

    /// <summary>Bound on a learner's promotion, retried until the leader finds it in sync. Longer than the others: on
    /// a loaded 2-core machine the new process alone took 9 s to serve and the catch-up 16 s in all (33 s once).</summary>
    private static readonly TimeSpan PromoteLimit = TimeSpan.FromSeconds(60);

    /// <summary>Concurrent lanes of sequential puts sent to the leader before it is killed, one key each.</summary>
    private const int BurstLanes = 8;

    /// <summary>Bound on each lane's puts (the lanes stop once the leader is killed).</summary>
    private const int BurstWritesPerLane = 50;

    /// <summary>Client ids of the bursts start here, apart from the workload's clients.</summary>
    private const int BurstClientBase = 1_000;

    private int bursts;

    public async Task RunAsync(NemesisStep step)
    {
        var duration = TimeSpan.FromMilliseconds(step.DurationMs);
        switch (step.Kind)
        {
            case NemesisKind.KillRestart:
                cluster.Kill(step.Target);
                await Task.Delay(duration).ConfigureAwait(false);
                cluster.Restart(step.Target);
                break;
            case NemesisKind.Pause:
                await HoldAsync(() => cluster.Pause(step.Target), () => cluster.Resume(step.Target), duration).ConfigureAwait(false);
                break;
            case NemesisKind.Isolate or NemesisKind.Bridge:
                await PartitionAsync(Partition.For(step.Kind, cluster.MemberSlots, step.Target, leader: null), duration).ConfigureAwait(false);
                break;
            case NemesisKind.SplitLeaderInMinority or NemesisKind.SplitLeaderInMajority:
                var leader = await cluster.LeaderSlotAsync().ConfigureAwait(false) ?? throw new TimeoutException("no member names a leader");
                await PartitionAsync(Partition.For(step.Kind, cluster.MemberSlots, step.Target, leader), duration).ConfigureAwait(false);
                break;
            case NemesisKind.KillLeaderAfterFastWrites:
                await KillLeaderAfterWritesAsync(duration).ConfigureAwait(false);
                break;
            case NemesisKind.WipeAndRejoin:
                await cluster.RemoveAsync(step.Target, ChangeLimit).ConfigureAwait(false);
                cluster.Wipe(step.Target);
                await Task.Delay(duration).ConfigureAwait(false);
                var id = await cluster.AddAndStartAsync(step.Target, learner: false, ChangeLimit).ConfigureAwait(false);
                log(string.Create(CultureInfo.InvariantCulture, $"{cluster.Name(step.Target)} rejoined with an empty data dir as member {id:x}"));
                break;
            case NemesisKind.MembershipChange:
                var spare = cluster.SpareSlot;
                var learner = await cluster.AddAndStartAsync(spare, learner: true, ChangeLimit).ConfigureAwait(false);
                log(string.Create(CultureInfo.InvariantCulture, $"{cluster.Name(spare)} added as learner {learner:x}"));
                await Task.Delay(duration).ConfigureAwait(false);
                var promoting = System.Diagnostics.Stopwatch.StartNew();
                await cluster.PromoteAsync(spare, learner, PromoteLimit).ConfigureAwait(false);
                log(string.Create(CultureInfo.InvariantCulture, $"{cluster.Name(spare)} promoted to voter ({duration.TotalSeconds + promoting.Elapsed.TotalSeconds:F1} s after it was added)"));
                await cluster.RemoveAsync(spare, ChangeLimit).ConfigureAwait(false);
                cluster.Wipe(spare);
                log($"{cluster.Name(spare)} removed");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step.Kind, "unknown nemesis kind");
        }
    }

    /// <summary>Cuts the partition's links both ways, holds it for <paramref name="duration"/>, heals every link.</summary>
    private async Task PartitionAsync(Partition partition, TimeSpan duration)
    {
        log($"partition {partition} (links between the sides cut both ways)");
        await HoldAsync(() => cluster.Cut(partition), cluster.HealLinks, duration).ConfigureAwait(false);
    }

    /// <summary>Injects a fault, holds it for <paramref name="duration"/>, and undoes it whatever happens.</summary>
    private static async Task HoldAsync(Action inject, Action undo, TimeSpan duration)
    {
        inject();
        try
        {
            await Task.Delay(duration).ConfigureAwait(false);
        }
        finally
        {
            undo();
        }
    }

    /// <summary>Keeps <see cref="BurstLanes"/> lanes of puts going to the leader and SIGKILLs it as soon as the first is
    /// answered: with the fast path, that answer can come before the entry is durable on a quorum, and the other lanes'
    /// writes are in flight when it dies. Restarts it after <paramref name="down"/>.</summary>
    private async Task KillLeaderAfterWritesAsync(TimeSpan down)
    {
        var leader = await cluster.LeaderSlotAsync().ConfigureAwait(false) ?? throw new TimeoutException("no member names a leader");
        var burst = Interlocked.Increment(ref bursts);
        var firstAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        async Task<int> LaneAsync(int lane)
        {
            var answered = 0;
            for (var i = 0; i < BurstWritesPerLane && !Volatile.Read(ref killed); i++)
            {
                var client = ((BurstClientBase + burst) * 100) + lane;
                if (await workload.PutAsync(client, leader, Workload.Key(lane), string.Create(CultureInfo.InvariantCulture, $"burst{burst}-{lane}-{i}")).ConfigureAwait(false))
                {
                    answered++;
                    firstAnswer.TrySetResult();
                }
            }
            return answered;
        }
        var lanes = Enumerable.Range(0, BurstLanes).Select(LaneAsync).ToList();
        await Task.WhenAny(firstAnswer.Task, Task.WhenAll(lanes)).ConfigureAwait(false);
        cluster.Kill(leader);
        Volatile.Write(ref killed, true);
        var answeredWrites = await Task.WhenAll(lanes).ConfigureAwait(false);
        log($"killed leader {cluster.Name(leader)} after its first answer; {answeredWrites.Sum()} burst writes answered in all");
        await Task.Delay(down).ConfigureAwait(false);
        cluster.Restart(leader);
    }
}
