using System.Globalization;

namespace CurpStore.Faults;

/// <summary>Settings of one fault run.</summary>
/// <param name="Members">Voting members (3 or 5).</param>
/// <param name="Seconds">Length of the faulty phase (clients and nemesis); healing and the final checks come after.</param>
/// <param name="Seed">Seed of the nemesis schedule (and of the clients' choices).</param>
/// <param name="StrictRevisions">Start the members with <c>--strict-revisions</c>; the strict model must then pass too.</param>
/// <param name="Keys">Keys the clients share.</param>
/// <param name="ClientsPerMember">Concurrent etcd clients per member.</param>
/// <param name="KeepData">Keep the data dirs and member logs after a clean run (they are always kept after a failing one).</param>
/// <param name="ScheduleOnly">Print the seed's schedule and exit (to look at what a seed replays).</param>
public sealed record FaultOptions(int Members, int Seconds, int Seed, bool StrictRevisions, int Keys = 8, int ClientsPerMember = 2, bool KeepData = false, bool ScheduleOnly = false)
{
    public const string Usage = """
        usage: Faults [--members 3|5] [--seconds N] [--seed N] [--strict-revisions] [--keys N] [--clients-per-member N]
                      [--keep-data] [--schedule-only]
          Starts a cluster of real CurpStore members, each in a network namespace of the WAN rig (needs root), injects
          a nemesis schedule drawn from the seed (kill -9 and restart, SIGSTOP/SIGCONT, two-way partitions: a member
          isolated, a minority/majority split with the leader on either side, a bridge member that sees both sides;
          the leader killed right after fast-path answers, a member wiped and rejoined as a new member, a learner
          added, promoted and removed), records every client call and the watch streams, heals, and checks:
          linearizability (effects-only model, and the strict model with --strict-revisions), lost acknowledged
          writes, watch order, gaps, duplicates and prev_kv. Exit code 0 only when every check passes.
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with the reason on a bad one.</summary>
    public static FaultOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new FaultOptions(3, 120, Environment.TickCount & 0x7fffffff, false);
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number(int min, int max)
            {
                var flag = args[i];
                var text = Next();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                    ? n : throw new ArgumentException($"{flag} must be a number from {min} to {max}, not '{text}'");
            }
            options = args[i] switch
            {
                "--members" => options with { Members = Number(3, 5) is var m && m is 3 or 5 ? m : throw new ArgumentException("--members must be 3 or 5") },
                "--seconds" => options with { Seconds = Number(10, 86_400) },
                "--seed" => options with { Seed = Number(0, int.MaxValue) },
                "--keys" => options with { Keys = Number(1, 100) },
                "--clients-per-member" => options with { ClientsPerMember = Number(1, 16) },
                "--strict-revisions" => options with { StrictRevisions = true },
                "--keep-data" => options with { KeepData = true },
                "--schedule-only" => options with { ScheduleOnly = true },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        return options;
    }
}
