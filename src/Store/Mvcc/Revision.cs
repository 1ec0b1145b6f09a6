namespace CurpStore.Store;

/// <summary>
/// etcd's revision pair. <see cref="Main"/> is the store-wide revision a write transaction gets (what clients see);
/// <see cref="Sub"/> numbers the changes inside that transaction, so every record has its own storage key.
/// </summary>
public readonly record struct Revision(long Main, long Sub) : IComparable<Revision>
{
    public static readonly Revision Zero = new(0, 0);

    public int CompareTo(Revision other) => Main != other.Main ? Main.CompareTo(other.Main) : Sub.CompareTo(other.Sub);

    public static bool operator <(Revision left, Revision right) => left.CompareTo(right) < 0;

    public static bool operator >(Revision left, Revision right) => left.CompareTo(right) > 0;

    public static bool operator <=(Revision left, Revision right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Revision left, Revision right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Main}.{Sub}";
}
