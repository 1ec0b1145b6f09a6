using System.Collections.Immutable;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>
/// The simulator's replicated state machine: string keys and values with one global revision, bumped by every write
/// that changes something (as etcd does). Keeps a speculative overlay for the leader, and the bookkeeping the checkers
/// need: the revision each command was applied at, and how often each command was applied.
/// </summary>
public sealed class KvStateMachine : IStateMachine
{
    private ImmutableSortedDictionary<string, KvValue> committed = ImmutableSortedDictionary.Create<string, KvValue>(StringComparer.Ordinal);
    private ImmutableDictionary<ProposeId, long> appliedRevisions = ImmutableDictionary<ProposeId, long>.Empty;
    private long revision;

    /// <summary>Speculated effects not applied yet: per key its latest value (null value = deleted) and the index of the
    /// entry that wrote it.</summary>
    private readonly Dictionary<string, (KvValue? Value, ulong Index)> overlay = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, KvResult> speculated = [];
    private long speculativeRevision;

    public long Revision => revision;

    public int Count => committed.Count;

    /// <summary>Commands applied more than once (the core's exactly-once must keep this at zero).</summary>
    public long DuplicateApplies { get; private set; }

    /// <summary>Applied results that differ from what the leader speculated for the same index (must stay zero).</summary>
    public long SpeculationMismatches { get; private set; }

    /// <summary>The revision each write command was applied at (0 when it changed nothing).</summary>
    public IReadOnlyDictionary<ProposeId, long> AppliedRevisions => appliedRevisions;

    public KvValue? Get(string key) => committed.GetValueOrDefault(key);

    public ICommandResult Apply(ICommand command, ulong index)
    {
        var kv = (KvCommand)command;
        if (appliedRevisions.ContainsKey(kv.Id))
        {
            DuplicateApplies++;
        }
        var result = Execute(kv, key => committed.GetValueOrDefault(key), ref revision, out var written);
        if (written is { } write)
        {
            committed = write.Value is null ? committed.Remove(kv.Key) : committed.SetItem(kv.Key, write.Value);
        }
        appliedRevisions = appliedRevisions.SetItem(kv.Id, written is null ? 0 : result.ModRevision);
        if (speculated.Remove(index, out var predicted) && predicted != result)
        {
            SpeculationMismatches++;
        }
        if (overlay.TryGetValue(kv.Key, out var pending) && pending.Index <= index)
        {
            overlay.Remove(kv.Key);
        }
        if (overlay.Count == 0)
        {
            speculativeRevision = revision;
        }
        return result;
    }

    public ICommandResult Speculate(ICommand command, ulong index)
    {
        var kv = (KvCommand)command;
        if (overlay.Count == 0)
        {
            speculativeRevision = revision;
        }
        var result = Execute(kv, key => overlay.TryGetValue(key, out var o) ? o.Value : committed.GetValueOrDefault(key), ref speculativeRevision, out var written);
        if (written is { } write)
        {
            overlay[kv.Key] = (write.Value, index);
        }
        speculated[index] = result;
        return result;
    }

    public void DiscardSpeculation()
    {
        overlay.Clear();
        speculated.Clear();
        speculativeRevision = revision;
    }

    public ICommandResult Read(ICommand command)
    {
        var kv = (KvCommand)command;
        var value = committed.GetValueOrDefault(kv.Key);
        return new KvResult(true, value?.Data, value?.ModRevision ?? 0, revision);
    }

    public IStateSnapshot TakeSnapshot() => new KvSnapshot(committed, appliedRevisions, revision);

    public void RestoreSnapshot(IStateSnapshot snapshot)
    {
        var image = (KvSnapshot)(snapshot is IDeferredStateSnapshot deferred ? deferred.Load() : snapshot); // a host's file
        committed = image.Values;
        appliedRevisions = image.AppliedRevisions;
        revision = image.Revision;
        DiscardSpeculation();
    }

    /// <summary>A digest of the applied state, equal on every replica at the same applied index.</summary>
    public ulong StateDigest()
    {
        var hash = 14695981039346656037UL;
        void Mix(string text)
        {
            foreach (var c in text)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }
            hash = (hash ^ 0xff) * 1099511628211UL;
        }
        Mix(revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in committed)
        {
            Mix(key);
            Mix(value.ToString());
        }
        return hash;
    }

    /// <summary>The one place the KV semantics live, used for both speculation and apply so they cannot drift.</summary>
    private static KvResult Execute(KvCommand command, Func<string, KvValue?> read, ref long revision, out (KvValue? Value, bool Changed)? written)
    {
        written = null;
        var current = read(command.Key);
        switch (command.Operation)
        {
            case KvOperation.Put:
                revision++;
                written = (new KvValue(command.Value ?? "", revision, current?.CreateRevision ?? revision, (current?.Version ?? 0) + 1), true);
                return new KvResult(true, current?.Data, revision, revision);
            case KvOperation.Delete when current is not null:
                revision++;
                written = (null, true);
                return new KvResult(true, current.Data, revision, revision);
            case KvOperation.CompareAndSwap when current?.Data == command.Expected:
                revision++;
                written = (new KvValue(command.Value ?? "", revision, current?.CreateRevision ?? revision, (current?.Version ?? 0) + 1), true);
                return new KvResult(true, current?.Data, revision, revision);
            case KvOperation.Get:
                return new KvResult(true, current?.Data, current?.ModRevision ?? 0, revision);
            default:
                return new KvResult(false, current?.Data, current?.ModRevision ?? 0, revision);
        }
    }
}

public sealed record KvValue(string Data, long ModRevision, long CreateRevision, long Version)
{
    public override string ToString() => $"{Data}@{ModRevision}/{CreateRevision}/{Version}";
}

public sealed record KvSnapshot(ImmutableSortedDictionary<string, KvValue> Values, ImmutableDictionary<ProposeId, long> AppliedRevisions, long Revision)
    : IStateSnapshot;
