using System.Collections.Immutable;
using System.Globalization;

namespace CurpStore.Store;

/// <summary>
/// The active alarms (etcd's AlarmStore), an immutable value ordered by type then member, so listings are the same on
/// every member. Stored in the meta space as one empty entry per alarm (<c>alarm/TYPE/MEMBER</c>), so alarms are
/// replicated, in snapshots and survive restarts like every other applied state.
/// </summary>
public sealed class AlarmSet
{
    /// <summary>The meta-space prefix of alarm entries.</summary>
    internal const string MetaPrefix = "alarm/";

    private readonly ImmutableSortedSet<AlarmMember> members;

    private AlarmSet(ImmutableSortedSet<AlarmMember> members) => this.members = members;

    public static AlarmSet Empty { get; } = new(ImmutableSortedSet.Create(Order));

    private static IComparer<AlarmMember> Order => Comparer<AlarmMember>.Create((a, b) =>
        a.Alarm != b.Alarm ? a.Alarm.CompareTo(b.Alarm) : a.MemberId.CompareTo(b.MemberId));

    /// <summary>Every active alarm.</summary>
    public IReadOnlyList<AlarmMember> All => members;

    public bool IsEmpty => members.IsEmpty;

    /// <summary>Is any member's alarm of this type active?</summary>
    public bool Has(AlarmType type) => members.Any(m => m.Alarm == type);

    /// <summary>etcd's <c>AlarmStore.Get</c>: <see cref="AlarmType.None"/> lists every alarm.</summary>
    public IReadOnlyList<AlarmMember> Get(AlarmType type) => type == AlarmType.None ? members : [.. members.Where(m => m.Alarm == type)];

    public AlarmSet With(AlarmMember member) => new(members.Add(member));

    public AlarmSet Without(AlarmMember member) => new(members.Remove(member));

    public bool Contains(AlarmMember member) => members.Contains(member);

    internal static string MetaName(AlarmMember member) =>
        MetaPrefix + ((int)member.Alarm).ToString(CultureInfo.InvariantCulture) + "/" + member.MemberId.ToString("x16", CultureInfo.InvariantCulture);

    internal static AlarmSet Load(IKvEngine engine)
    {
        var set = Empty;
        foreach (var (name, _) in engine.ScanMeta(MetaPrefix))
        {
            var parts = name[MetaPrefix.Length..].Split('/');
            set = set.With(new AlarmMember(
                ulong.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                (AlarmType)int.Parse(parts[0], CultureInfo.InvariantCulture)));
        }
        return set;
    }

    /// <summary>Writes the difference between <paramref name="before"/> and <paramref name="after"/> into the batch.</summary>
    internal static void WriteChanges(AlarmSet before, AlarmSet after, KvWriteBatch batch)
    {
        foreach (var removed in before.members.Except(after.members))
        {
            batch.Meta[MetaName(removed)] = null;
        }
        foreach (var added in after.members.Except(before.members))
        {
            batch.Meta[MetaName(added)] = [1]; // the entry's presence is the alarm; one byte so no engine has to store an empty value
        }
    }
}
