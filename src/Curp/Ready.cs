using System.Collections.Immutable;

namespace CurpStore.Curp;

/// <summary>
/// What the host must do after the core has run: persist, then send. Every message in <see cref="Messages"/> may
/// depend on what this batch persists (a vote, an appended entry, a pool record), so the host makes the batch durable
/// before it sends any of them, then calls <see cref="CurpNode.Advance"/>.
/// </summary>
public sealed class Ready
{
    /// <summary>Changed term, vote or commit index, if any.</summary>
    public HardState? HardState { get; init; }

    /// <summary>Entries to append. They replace every stored entry at or after the first one's index.</summary>
    public ImmutableArray<LogEntry> Entries { get; init; } = [];

    /// <summary>A snapshot to store; the stored log up to its index is replaced by it.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Commands added to this member's speculative pool (a witness's promise must survive its restart).</summary>
    public ImmutableArray<PooledCommand> PoolAdded { get; init; } = [];

    /// <summary>Commands that left the pool (committed or discarded).</summary>
    public ImmutableArray<ProposeId> PoolRemoved { get; init; } = [];

    public ImmutableArray<Message> Messages { get; init; } = [];

    public bool MustPersist => HardState is not null || !Entries.IsEmpty || Snapshot is not null || !PoolAdded.IsEmpty || !PoolRemoved.IsEmpty;
}

/// <summary>What a member restores at start: everything its host persisted from earlier <see cref="Ready"/> batches.</summary>
public sealed record PersistentState(HardState HardState, Snapshot? Snapshot, ImmutableArray<LogEntry> Entries, ImmutableArray<PooledCommand> Pool)
{
    public static PersistentState Empty { get; } = new(default, null, [], []);
}
