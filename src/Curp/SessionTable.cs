using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>How the session table judges a command before it is executed.</summary>
public enum Admission
{
    /// <summary>Never seen: execute it.</summary>
    New,

    /// <summary>Already applied: answer with the recorded result, do not execute again.</summary>
    Duplicate,

    /// <summary>Already in the log but not applied yet (leader only): wait for it.</summary>
    Pending,

    /// <summary>Below the client's acknowledgement watermark: the client was answered long ago; drop it.</summary>
    Stale,

    /// <summary>The session was never opened or has expired.</summary>
    UnknownSession,

}

/// <summary>
/// Exactly-once bookkeeping (RIFL style): per client session, the results of commands the client has not acknowledged
/// yet, and the acknowledgement watermark. Part of the replicated state: changed only by applying log entries, in
/// order, so every member holds the same table at the same applied index.
/// </summary>
public sealed class SessionTable
{
    private readonly SortedDictionary<ulong, Session> sessions = [];

    public SessionTable(int maxResultsPerSession)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxResultsPerSession, 1);
        MaxResultsPerSession = maxResultsPerSession;
    }

    public int MaxResultsPerSession { get; }

    public int Count => sessions.Count;

    public IEnumerable<ulong> ClientIds => sessions.Keys;

    public bool IsOpen(ulong clientId) => sessions.ContainsKey(clientId);

    public void Open(ulong clientId) => sessions.TryAdd(clientId, new Session());

    public void Close(IEnumerable<ulong> clientIds)
    {
        foreach (var id in clientIds)
        {
            sessions.Remove(id);
        }
    }

    /// <summary>Judges <paramref name="id"/> against the applied table, plus (on a leader) what its uncommitted log tail
    /// holds, so that the leader's judgement at append time equals every member's judgement at apply time.</summary>
    public Admission Judge(ProposeId id, PendingSessions? pending, out ICommandResult? result)
    {
        result = null;
        var known = sessions.TryGetValue(id.ClientId, out var session);
        // A session whose registration is still in the uncommitted tail will be open when this command applies.
        var opening = !known && (pending?.IsOpening(id.ClientId) ?? false);
        if ((!known && !opening) || (pending?.IsClosing(id.ClientId) ?? false))
        {
            return Admission.UnknownSession;
        }
        var watermark = Math.Max(session?.FirstIncomplete ?? 0, pending?.Watermark(id.ClientId) ?? 0);
        if (id.Sequence < watermark)
        {
            return Admission.Stale;
        }
        if (session is not null && session.Results.TryGetValue(id.Sequence, out result))
        {
            return Admission.Duplicate;
        }
        if (pending is not null && pending.Contains(id))
        {
            return Admission.Pending;
        }
        return Admission.New;
    }

    /// <summary>Admission control at the leader only (never at apply time, where it would not be deterministic
    /// across leaders): a session may hold at most <see cref="MaxResultsPerSession"/> unacknowledged commands.</summary>
    public bool HasRoom(ulong clientId, PendingSessions pending) =>
        (sessions.TryGetValue(clientId, out var session) ? session.Results.Count : 0) + pending.CountFor(clientId) < MaxResultsPerSession;

    /// <summary>Records an applied command's result and forgets results the client has acknowledged.</summary>
    public void Record(ProposeId id, ulong firstIncompleteSequence, ICommandResult result)
    {
        var session = sessions[id.ClientId];
        Acknowledge(session, firstIncompleteSequence);
        if (id.Sequence >= session.FirstIncomplete)
        {
            session.Results[id.Sequence] = result;
        }
    }

    /// <summary>Moves the watermark of a session forward without recording a result (a skipped command still
    /// carries the client's acknowledgements).</summary>
    public void Acknowledge(ulong clientId, ulong firstIncompleteSequence)
    {
        if (sessions.TryGetValue(clientId, out var session))
        {
            Acknowledge(session, firstIncompleteSequence);
        }
    }

    private static void Acknowledge(Session session, ulong firstIncompleteSequence)
    {
        if (firstIncompleteSequence <= session.FirstIncomplete)
        {
            return;
        }
        session.FirstIncomplete = firstIncompleteSequence;
        while (session.Results.Count > 0 && session.Results.Keys.First() < firstIncompleteSequence)
        {
            session.Results.Remove(session.Results.Keys.First());
        }
    }

    public SessionTableImage ToImage() => new(MaxResultsPerSession, sessions.ToImmutableSortedDictionary(
        pair => pair.Key,
        pair => new SessionImage(pair.Value.FirstIncomplete, pair.Value.Results.ToImmutableSortedDictionary())));

    public static SessionTable FromImage(SessionTableImage image)
    {
        var table = new SessionTable(image.MaxResultsPerSession);
        foreach (var (clientId, session) in image.Sessions)
        {
            var restored = new Session { FirstIncomplete = session.FirstIncomplete };
            foreach (var (sequence, result) in session.Results)
            {
                restored.Results[sequence] = result;
            }
            table.sessions[clientId] = restored;
        }
        return table;
    }

    private sealed class Session
    {
        public ulong FirstIncomplete { get; set; }

        public SortedDictionary<ulong, ICommandResult> Results { get; } = [];
    }
}

public sealed record SessionImage(ulong FirstIncomplete, ImmutableSortedDictionary<ulong, ICommandResult> Results);

public sealed record SessionTableImage(int MaxResultsPerSession, ImmutableSortedDictionary<ulong, SessionImage> Sessions)
{
    public static SessionTableImage Empty(int maxResultsPerSession) => new(maxResultsPerSession, ImmutableSortedDictionary<ulong, SessionImage>.Empty);
}

/// <summary>What a leader's uncommitted log tail will do to the session table once applied.</summary>
public sealed class PendingSessions
{
    private readonly Dictionary<ProposeId, ulong> commandIndexes = [];
    private readonly Dictionary<ulong, ulong> watermarks = [];
    private readonly Dictionary<ulong, int> counts = [];
    private readonly HashSet<ulong> closing = [];
    private readonly HashSet<ulong> opening = [];

    public bool Contains(ProposeId id) => commandIndexes.ContainsKey(id);

    public bool TryGetIndex(ProposeId id, out ulong index) => commandIndexes.TryGetValue(id, out index);

    public ulong Watermark(ulong clientId) => watermarks.GetValueOrDefault(clientId);

    public int CountFor(ulong clientId) => counts.GetValueOrDefault(clientId);

    public bool IsClosing(ulong clientId) => closing.Contains(clientId);

    public bool IsOpening(ulong clientId) => opening.Contains(clientId);

    public void Add(LogEntry entry)
    {
        switch (entry.Payload)
        {
            case CommandPayload command:
                commandIndexes[command.Command.Id] = entry.Index;
                var client = command.Command.Id.ClientId;
                watermarks[client] = Math.Max(watermarks.GetValueOrDefault(client), command.FirstIncompleteSequence);
                counts[client] = counts.GetValueOrDefault(client) + 1;
                break;
            case ExpireSessionsPayload expire:
                closing.UnionWith(expire.ClientIds);
                break;
            case RegisterSessionPayload:
                opening.Add(entry.Index);
                break;
        }
    }

    public void Clear()
    {
        commandIndexes.Clear();
        watermarks.Clear();
        counts.Clear();
        closing.Clear();
        opening.Clear();
    }
}
