using System.Collections.Immutable;

namespace CurpStore.Store;

/// <summary>
/// A user's merged read and write intervals, checked as etcd checks them (auth/range_perm_cache.go): a single key is
/// allowed when some interval holds it; a range only when the intervals that meet it, joined, cover all of it. A
/// permission on one key is the interval [key, key+"\0"); a range end of "\0" is open (no upper bound).
/// </summary>
public sealed class UserPermissions
{
    private readonly ImmutableArray<Interval> read;
    private readonly ImmutableArray<Interval> write;

    private UserPermissions(ImmutableArray<Interval> read, ImmutableArray<Interval> write)
    {
        this.read = read;
        this.write = write;
    }

    public static UserPermissions Of(AuthUser user, IReadOnlyDictionary<string, AuthRole> roles)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(roles);
        var read = new List<Interval>();
        var write = new List<Interval>();
        foreach (var roleName in user.Roles)
        {
            if (!roles.TryGetValue(roleName, out var role))
            {
                continue;
            }
            foreach (var permission in role.Permissions)
            {
                var interval = permission.RangeEnd.Length == 0
                    ? new Interval(permission.Key, [.. permission.Key, 0])
                    : new Interval(permission.Key, permission.RangeEnd is [0] ? [] : permission.RangeEnd);
                if (permission.Allows(PermissionType.Read))
                {
                    read.Add(interval);
                }
                if (permission.Allows(PermissionType.Write))
                {
                    write.Add(interval);
                }
            }
        }
        return new UserPermissions(Sorted(read), Sorted(write));
    }

    /// <summary>Whether <paramref name="wanted"/> is allowed on the key (empty <paramref name="rangeEnd"/>) or the
    /// range, with etcd's range_end rules ("\0" = from the key on).</summary>
    public bool Allows(PermissionType wanted, byte[] key, byte[] rangeEnd)
    {
        var intervals = wanted == PermissionType.Write ? write : read;
        if (rangeEnd.Length == 0)
        {
            foreach (var interval in intervals)
            {
                if (AffineBytes.Compare(interval.Begin, key) <= 0 && AffineBytes.Compare(key, interval.End) < 0)
                {
                    return true;
                }
            }
            return false;
        }
        return Covers(intervals, new Interval(key, rangeEnd is [0] ? [] : rangeEnd));
    }

    /// <summary>etcd's IntervalTree.Contains: the intervals meeting <paramref name="wanted"/>, in begin order, must
    /// join without a gap and reach from its begin to its end.</summary>
    private static bool Covers(ImmutableArray<Interval> intervals, Interval wanted)
    {
        byte[]? minBegin = null;
        byte[] maxEnd = [];
        foreach (var interval in intervals)
        {
            var meets = AffineBytes.Compare(interval.Begin, wanted.End) < 0 && AffineBytes.Compare(wanted.Begin, interval.End) < 0;
            if (!meets)
            {
                continue;
            }
            if (minBegin is null)
            {
                (minBegin, maxEnd) = (interval.Begin, interval.End);
                continue;
            }
            if (AffineBytes.Compare(maxEnd, interval.Begin) < 0)
            {
                return false;
            }
            if (AffineBytes.Compare(interval.End, maxEnd) > 0)
            {
                maxEnd = interval.End;
            }
        }
        return minBegin is not null && AffineBytes.Compare(maxEnd, wanted.End) >= 0 && AffineBytes.Compare(minBegin, wanted.Begin) <= 0;
    }

    private static ImmutableArray<Interval> Sorted(List<Interval> intervals)
    {
        intervals.Sort((a, b) => AffineBytes.Compare(a.Begin, b.Begin) is var byBegin and not 0 ? byBegin : AffineBytes.Compare(a.End, b.End));
        return [.. intervals];
    }

    /// <summary>[Begin, End) in <see cref="AffineBytes"/> order (an empty End has no upper bound).</summary>
    private readonly record struct Interval(byte[] Begin, byte[] End);
}
