namespace CurpStore.Curp;

/// <summary>
/// A key or a key range with etcd's conventions: an empty <see cref="End"/> means the single key
/// <see cref="Start"/>; an <see cref="End"/> of one zero byte means every key &gt;= <see cref="Start"/>;
/// otherwise the half-open range [Start, End). Keys compare as unsigned bytes, as in etcd.
/// </summary>
public readonly struct KeyRange : IEquatable<KeyRange>
{
    private static readonly byte[] FromKeyMarker = [0];

    public KeyRange(byte[] start, byte[]? end = null)
    {
        Start = start ?? throw new ArgumentNullException(nameof(start));
        End = end ?? [];
    }

    public byte[] Start { get; }

    public byte[] End { get; }

    public bool IsSingleKey => End.Length == 0;

    public bool IsToInfinity => End.Length == 1 && End[0] == 0;

    public static KeyRange Single(byte[] key) => new(key);

    public static KeyRange FromKey(byte[] key) => new(key, FromKeyMarker);

    public static KeyRange Prefix(byte[] prefix) => new(prefix, PrefixEnd(prefix));

    /// <summary>etcd's GetPrefixRangeEnd: the smallest key greater than every key that starts with the prefix.</summary>
    public static byte[] PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return FromKeyMarker; // all 0xff: no upper bound
    }

    public bool Contains(ReadOnlySpan<byte> key)
    {
        if (IsSingleKey)
        {
            return key.SequenceEqual(Start);
        }
        return key.SequenceCompareTo(Start) >= 0 && (IsToInfinity || key.SequenceCompareTo(End) < 0);
    }

    /// <summary>True when some key lies in both ranges: the test behind every conflict check.</summary>
    public bool Overlaps(KeyRange other)
    {
        if (IsSingleKey)
        {
            return other.Contains(Start);
        }
        if (other.IsSingleKey)
        {
            return Contains(other.Start);
        }
        // Two half-open intervals [a, b) and [c, d) overlap when a < d and c < b (an unbounded end is +inf).
        var startsBeforeOtherEnds = other.IsToInfinity || Start.AsSpan().SequenceCompareTo(other.End) < 0;
        var otherStartsBeforeEnd = IsToInfinity || other.Start.AsSpan().SequenceCompareTo(End) < 0;
        return startsBeforeOtherEnds && otherStartsBeforeEnd && !IsEmptyRange && !other.IsEmptyRange;
    }

    /// <summary>A range whose end is not above its start holds no key (etcd answers such a range with nothing).</summary>
    public bool IsEmptyRange => !IsSingleKey && !IsToInfinity && End.AsSpan().SequenceCompareTo(Start) <= 0;

    public bool Equals(KeyRange other) => Start.AsSpan().SequenceEqual(other.Start) && End.AsSpan().SequenceEqual(other.End);

    public override bool Equals(object? obj) => obj is KeyRange other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Start);
        hash.AddBytes(End);
        return hash.ToHashCode();
    }

    public override string ToString() => IsSingleKey
        ? Convert.ToHexString(Start)
        : $"[{Convert.ToHexString(Start)}, {(IsToInfinity ? "+inf" : Convert.ToHexString(End))})";
}
