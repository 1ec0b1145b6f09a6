namespace CurpStore.Faults;

/// <summary>A two-way partition: every link between a member of <see cref="SideA"/> and a member of
/// <see cref="SideB"/> is cut in both directions; links inside a side, and those of members in neither side (a
/// bridge), stay up.</summary>
/// <param name="SideA">Member slots on one side.</param>
/// <param name="SideB">Member slots on the other side.</param>
public sealed record Partition(IReadOnlyList<int> SideA, IReadOnlyList<int> SideB)
{
    /// <summary>Every directed link the partition cuts.</summary>
    public IEnumerable<(int From, int To)> CutLinks =>
        SideA.SelectMany(a => SideB.SelectMany(b => new[] { (a, b), (b, a) }));

    /// <summary>One line for the run's output, slots named m1, m2...</summary>
    public override string ToString()
    {
        static string Names(IEnumerable<int> side) => string.Join(',', side.Select(s => $"m{s + 1}"));
        return $"{Names(SideA)} | {Names(SideB)}";
    }

    /// <summary>
    /// The partition a step of <paramref name="kind"/> makes among <paramref name="members"/> (slots of the members in
    /// the cluster now). <paramref name="target"/> picks members deterministically: the isolated member, the bridge,
    /// or where the rotation of the non-leaders starts that fills the sides.
    /// </summary>
    /// <param name="kind">One of the partition kinds.</param>
    /// <param name="members">Member slots, at least 3.</param>
    /// <param name="target">The step's target (any non-negative number; taken modulo the member count).</param>
    /// <param name="leader">The leader's slot (a member); needed by the minority/majority splits only.</param>
    /// <exception cref="ArgumentException">Not a partition kind, fewer than 3 members, or a split without a leader among
    /// the members.</exception>
    public static Partition For(NemesisKind kind, IReadOnlyList<int> members, int target, int? leader)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfLessThan(members.Count, 3);
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        var n = members.Count;
        var picked = members[target % n];
        // The largest side that cannot elect a leader: 1 of 3, 2 of 5.
        var minority = (n - 1) / 2;
        switch (kind)
        {
            case NemesisKind.Isolate:
                return new Partition([picked], [.. members.Where(m => m != picked)]);
            case NemesisKind.Bridge:
                {
                    // The bridge sees both sides; the others are split as evenly as possible (1|1 of 3, 2|2 of 5).
                    var rest = Rotate(members.Where(m => m != picked).ToList(), target);
                    var half = rest.Count / 2;
                    return new Partition([.. rest.Take(half)], [.. rest.Skip(half)]);
                }
            case NemesisKind.SplitLeaderInMinority:
            case NemesisKind.SplitLeaderInMajority:
                {
                    if (leader is not { } leaderSlot || !members.Contains(leaderSlot))
                    {
                        throw new ArgumentException($"a {kind} needs the leader among the members", nameof(leader));
                    }
                    var others = Rotate(members.Where(m => m != leaderSlot).ToList(), target);
                    List<int> minoritySide = kind == NemesisKind.SplitLeaderInMinority
                        ? [leaderSlot, .. others.Take(minority - 1)]
                        : [.. others.Take(minority)];
                    return new Partition(minoritySide, [.. members.Where(m => !minoritySide.Contains(m))]);
                }
            default:
                throw new ArgumentException($"{kind} is not a partition", nameof(kind));
        }
    }

    private static List<int> Rotate(List<int> slots, int start) =>
        [.. slots.Skip(start % slots.Count), .. slots.Take(start % slots.Count)];
}
