using System.Globalization;

namespace CurpStore.Faults;

/// <summary>One event as a watcher received it.</summary>
/// <param name="Key">The event's key.</param>
/// <param name="IsDelete">A delete (tombstone) rather than a put.</param>
/// <param name="Value">The value put (empty for a delete).</param>
/// <param name="ModRevision">The event's revision.</param>
/// <param name="Version">The key's version after the event (0 for a delete).</param>
/// <param name="PrevValue">prev_kv's value; <c>null</c> when the event carried no prev_kv.</param>
/// <param name="PrevModRevision">prev_kv's mod revision (0 without prev_kv).</param>
public sealed record WatchedEvent(string Key, bool IsDelete, string Value, long ModRevision, long Version, string? PrevValue, long PrevModRevision);

/// <summary>A key as the final full range read returned it.</summary>
public sealed record FinalKv(string Key, string Value, long ModRevision, long Version);

/// <summary>
/// Checks watch streams of watchers that started at revision 1 with prev_kv (and, after a broken stream, resumed at the
/// last revision seen + 1): per key the revisions increase (no duplicate, no reordering), versions go up by one (no
/// gap), prev_kv is the previous event of the key, every stream agrees with a reference stream, and the reference
/// agrees with the final range read. Pure: the fault run hands it what was recorded.
/// </summary>
public static class WatchChecker
{
    /// <summary>Problems within one stream, each naming the stream, the key and the revisions.</summary>
    public static IReadOnlyList<string> CheckStream(string stream, IReadOnlyList<WatchedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var problems = new List<string>();
        var last = new Dictionary<string, WatchedEvent>(StringComparer.Ordinal);
        long lastRevision = 0;
        foreach (var e in events)
        {
            if (e.ModRevision < lastRevision)
            {
                problems.Add(Say($"{stream}: revision {e.ModRevision} ({e.Key}) after revision {lastRevision}: out of order"));
            }
            lastRevision = Math.Max(lastRevision, e.ModRevision);
            last.TryGetValue(e.Key, out var previous);
            if (previous is not null && e.ModRevision == previous.ModRevision)
            {
                problems.Add(Say($"{stream}: {e.Key} at revision {e.ModRevision} delivered twice"));
                continue;
            }
            if (previous is not null && e.ModRevision < previous.ModRevision)
            {
                problems.Add(Say($"{stream}: {e.Key} at revision {e.ModRevision} after its revision {previous.ModRevision}: out of order"));
                continue;
            }
            var expectedVersion = e.IsDelete ? 0 : previous is null || previous.IsDelete ? 1 : previous.Version + 1;
            if (e.Version != expectedVersion)
            {
                problems.Add(Say($"{stream}: {e.Key} at revision {e.ModRevision} has version {e.Version}, expected {expectedVersion}: a gap before it (previous event: {(previous is null ? "none" : previous.ModRevision.ToString(CultureInfo.InvariantCulture))})"));
            }
            var expectedPrev = previous is null || previous.IsDelete ? null : previous;
            if (expectedPrev is null && e.PrevValue is not null)
            {
                problems.Add(Say($"{stream}: {e.Key} at revision {e.ModRevision} has prev_kv '{e.PrevValue}' (revision {e.PrevModRevision}) but the key had no value"));
            }
            else if (expectedPrev is not null && (e.PrevValue != expectedPrev.Value || e.PrevModRevision != expectedPrev.ModRevision))
            {
                problems.Add(Say($"{stream}: {e.Key} at revision {e.ModRevision} has prev_kv {(e.PrevValue is null ? "none" : $"'{e.PrevValue}' (revision {e.PrevModRevision})")}, expected '{expectedPrev.Value}' (revision {expectedPrev.ModRevision})"));
            }
            last[e.Key] = e;
        }
        return problems;
    }

    /// <summary>Problems of a stream against the reference stream: per key, the stream must hold exactly the reference's
    /// events (revision and value) up to the highest revision the reference holds; a stream that stops early lacks
    /// the rest.</summary>
    public static IReadOnlyList<string> CompareToReference(string stream, IReadOnlyList<WatchedEvent> events, IReadOnlyList<WatchedEvent> reference)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(reference);
        var problems = new List<string>();
        var seen = events.GroupBy(e => e.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var expected = reference.GroupBy(e => e.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var key in expected.Keys.Union(seen.Keys).Order(StringComparer.Ordinal))
        {
            var mine = seen.GetValueOrDefault(key) ?? [];
            var theirs = expected.GetValueOrDefault(key) ?? [];
            var mineByRevision = mine.GroupBy(e => e.ModRevision).ToDictionary(g => g.Key, g => g.First());
            var theirsByRevision = theirs.GroupBy(e => e.ModRevision).ToDictionary(g => g.Key, g => g.First());
            var missing = theirs.Where(e => !mineByRevision.ContainsKey(e.ModRevision)).Select(e => e.ModRevision).ToList();
            var extra = mine.Where(e => !theirsByRevision.ContainsKey(e.ModRevision)).Select(e => e.ModRevision).ToList();
            if (missing.Count > 0)
            {
                problems.Add(Say($"{stream}: {key} lacks revisions {Revisions(missing)} (a gap)"));
            }
            if (extra.Count > 0)
            {
                problems.Add(Say($"{stream}: {key} has revisions {Revisions(extra)} the reference does not"));
            }
            foreach (var e in mine)
            {
                if (theirsByRevision.TryGetValue(e.ModRevision, out var other) && (other.Value != e.Value || other.IsDelete != e.IsDelete))
                {
                    problems.Add(Say($"{stream}: {key} at revision {e.ModRevision} is '{e.Value}', the reference says '{other.Value}'"));
                }
            }
        }
        return problems;
    }

    /// <summary>Problems of the reference stream against the final range read: each key's last event is its final value,
    /// mod revision and version, and every key read has events.</summary>
    public static IReadOnlyList<string> CompareToFinalState(IReadOnlyList<WatchedEvent> reference, IReadOnlyList<FinalKv> final)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(final);
        var problems = new List<string>();
        var lastEvent = new Dictionary<string, WatchedEvent>(StringComparer.Ordinal);
        foreach (var e in reference)
        {
            lastEvent[e.Key] = e;
        }
        var finalByKey = final.ToDictionary(kv => kv.Key, StringComparer.Ordinal);
        foreach (var kv in final)
        {
            if (!lastEvent.TryGetValue(kv.Key, out var e))
            {
                problems.Add(Say($"reference: {kv.Key} = '{kv.Value}' (revision {kv.ModRevision}) was never watched"));
            }
            else if (e.IsDelete || e.Value != kv.Value || e.ModRevision != kv.ModRevision || e.Version != kv.Version)
            {
                problems.Add(Say($"reference: {kv.Key}'s last event is '{e.Value}' (revision {e.ModRevision}, version {e.Version}), the range read says '{kv.Value}' (revision {kv.ModRevision}, version {kv.Version})"));
            }
        }
        foreach (var (key, e) in lastEvent)
        {
            if (!e.IsDelete && !finalByKey.ContainsKey(key))
            {
                problems.Add(Say($"reference: {key}'s last event puts '{e.Value}' (revision {e.ModRevision}) but the range read has no such key"));
            }
        }
        return problems;
    }

    /// <summary>Lost or doubled writes: every acknowledged write's value (values are unique per operation) is in the
    /// key's history (it may have been overwritten since), and no value was applied twice.</summary>
    /// <param name="acknowledged">Key and value of every write answered as done.</param>
    /// <param name="reference">The full history of the key space.</param>
    public static IReadOnlyList<string> LostOrDoubledWrites(IEnumerable<(string Key, string Value)> acknowledged, IReadOnlyList<WatchedEvent> reference)
    {
        ArgumentNullException.ThrowIfNull(acknowledged);
        ArgumentNullException.ThrowIfNull(reference);
        var problems = new List<string>();
        var applied = reference.Where(e => !e.IsDelete).GroupBy(e => (e.Key, e.Value)).ToDictionary(g => g.Key, g => g.Select(e => e.ModRevision).ToList());
        foreach (var ((key, value), revisions) in applied.Where(p => p.Value.Count > 1).OrderBy(p => p.Value[0]))
        {
            problems.Add(Say($"{key} = '{value}' applied {revisions.Count} times (revisions {Revisions(revisions)})"));
        }
        foreach (var write in acknowledged)
        {
            if (!applied.ContainsKey(write))
            {
                problems.Add(Say($"lost acknowledged write: {write.Key} = '{write.Value}' is not in the key's history"));
            }
        }
        return problems;
    }

    private static string Revisions(IEnumerable<long> revisions)
    {
        var list = revisions.ToList();
        var shown = string.Join(',', list.Take(10).Select(r => r.ToString(CultureInfo.InvariantCulture)));
        return list.Count > 10 ? $"{shown},... ({list.Count})" : shown;
    }

    private static string Say(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
