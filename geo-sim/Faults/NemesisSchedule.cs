using System.Globalization;
using System.Text;

namespace CurpStore.Faults;

/// <summary>The faults the nemesis injects into a cluster of real member processes.</summary>
public enum NemesisKind
{
    /// <summary>SIGKILL a member, keep it down for the step's duration, restart it from its data dir.</summary>
    KillRestart,

    /// <summary>SIGSTOP a member for the step's duration, then SIGCONT.</summary>
    Pause,

    /// <summary>Cut every link between one member and the others, both ways, for the step's duration.</summary>
    Isolate,

    /// <summary>Split the members into a minority (1 of 3, 2 of 5) holding the leader and a majority without it, every
    /// link between the sides cut both ways, for the step's duration.</summary>
    SplitLeaderInMinority,

    /// <summary>Split the members into a minority without the leader and a majority holding it, every link between the
    /// sides cut both ways, for the step's duration.</summary>
    SplitLeaderInMajority,

    /// <summary>One member (the bridge) keeps its links to everyone while the others are split into two sides that do
    /// not see each other (1|1 of 3, 2|2 of 5), for the step's duration.</summary>
    Bridge,

    /// <summary>Send a burst of writes to the leader and SIGKILL it as soon as the first is answered (a fast-path answer
    /// whose entry may not be durable anywhere else yet), restart it after the step's duration.</summary>
    KillLeaderAfterFastWrites,

    /// <summary>MemberRemove a member, wipe its data dir, MemberAdd it again (a new member id) and start it with
    /// <c>--initial-cluster-state existing</c> after the step's duration.</summary>
    WipeAndRejoin,

    /// <summary>Under load: MemberAdd a spare member as a learner, start it, promote it once in sync, then remove it.</summary>
    MembershipChange,
}

/// <summary>One fault of the schedule.</summary>
/// <param name="Index">Position in the schedule, from 0.</param>
/// <param name="Kind">What is done.</param>
/// <param name="Target">Member slot (0-based) the fault hits; for the splits, where the members that join the sides
/// are picked from; ignored by faults whose target is chosen at run time (the leader) or is the spare member.</param>
/// <param name="GapBeforeMs">Quiet time before the fault starts.</param>
/// <param name="DurationMs">How long the member stays down, paused or cut off.</param>
public sealed record NemesisStep(int Index, NemesisKind Kind, int Target, int GapBeforeMs, int DurationMs)
{
    /// <summary>One line for the run's output.</summary>
    public override string ToString()
    {
        var target = Kind switch
        {
            NemesisKind.KillLeaderAfterFastWrites or NemesisKind.SplitLeaderInMinority or NemesisKind.SplitLeaderInMajority => "leader",
            NemesisKind.MembershipChange => "spare",
            _ => $"m{Target + 1}",
        };
        return string.Create(CultureInfo.InvariantCulture, $"#{Index} after {GapBeforeMs} ms: {Kind} {target} for {DurationMs} ms");
    }
}

/// <summary>
/// The nemesis schedule: a pure function of the seed, the cluster size and the run's length, so a failing seed replays
/// the same faults in the same order against the same members. The timing of real processes (when a write lands
/// relative to a kill) is not replayed; only the schedule is.
/// </summary>
public static class NemesisSchedule
{
    /// <summary>Shortest and longest quiet time between faults.</summary>
    public const int MinGapMs = 1_000, MaxGapMs = 3_000;

    /// <summary>Shortest and longest time a member stays down, paused or cut off.</summary>
    public const int MinDurationMs = 1_000, MaxDurationMs = 4_000;

    /// <summary>What one fault costs on top of its gap and duration in the schedule's time budget: restarts, waits for
    /// a leader and for a rejoined member to catch up.</summary>
    public const int StepOverheadMs = 4_000;

    /// <summary>Upper bound on the steps of one schedule, whatever the run's length.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Draws the schedule. The first steps are every kind once, in an order drawn from the seed, so any run
    /// long enough for them injects each kind at least once; later steps draw kinds uniformly.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="members">Voting members at the start (3 or 5).</param>
    /// <param name="faultTimeMs">Time the faults may take; steps are added while their nominal time fits.</param>
    public static IReadOnlyList<NemesisStep> Draw(int seed, int members, int faultTimeMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 3);
        ArgumentOutOfRangeException.ThrowIfNegative(faultTimeMs);
        var random = new Random(Scramble(seed));
        var kinds = Enum.GetValues<NemesisKind>();
        var firstRound = kinds.ToArray();
        random.Shuffle(firstRound);
        var steps = new List<NemesisStep>();
        var usedMs = 0L;
        while (steps.Count < MaxSteps)
        {
            var kind = steps.Count < firstRound.Length ? firstRound[steps.Count] : kinds[random.Next(kinds.Length)];
            var gapMs = random.Next(MinGapMs, MaxGapMs + 1);
            var durationMs = random.Next(MinDurationMs, MaxDurationMs + 1);
            var target = random.Next(members);
            usedMs += gapMs + durationMs + StepOverheadMs;
            if (usedMs > faultTimeMs)
            {
                break;
            }
            steps.Add(new NemesisStep(steps.Count, kind, target, gapMs, durationMs));
        }
        return steps;
    }

    /// <summary>SplitMix64's finalizer: .NET's seeded <see cref="Random"/> gives near-identical first draws for
    /// neighbouring seeds (seeds 1, 3, 5... all paused m3 first), so the seed is scrambled before use.</summary>
    private static int Scramble(int seed)
    {
        var z = (ulong)seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>The schedule as printed at the start of a run.</summary>
    public static string Describe(IEnumerable<NemesisStep> steps)
    {
        var text = new StringBuilder();
        foreach (var step in steps)
        {
            text.AppendLine(step.ToString());
        }
        return text.ToString();
    }
}
