namespace CurpStore.Store;

/// <summary>
/// The revisions of one key (etcd's keyIndex): a list of generations, the last one open (empty after a delete). A
/// tombstone closes the current generation and opens an empty one. Reads at a past revision find the generation
/// alive at that revision; compaction drops what no read at or after the compacted revision can reach.
/// </summary>
internal sealed class KeyHistory
{
    private List<KeyGeneration> generations = [new KeyGeneration()];

    public KeyHistory(byte[] key) => Key = key;

    public byte[] Key { get; }

    /// <summary>The revision of the last change (put or tombstone).</summary>
    public Revision Modified { get; private set; }

    public IReadOnlyList<KeyGeneration> Generations => generations;

    /// <summary>True when nothing is left (a fresh or fully compacted key): the index drops such keys.</summary>
    public bool IsEmpty => generations.Count == 1 && generations[0].IsEmpty;

    public void Put(Revision revision)
    {
        if (!IsEmpty && revision <= Modified)
        {
            throw new InvalidOperationException($"put at {revision} on key history modified at {Modified}");
        }
        var current = generations[^1];
        if (current.IsEmpty)
        {
            current.Created = revision;
        }
        current.Revisions.Add(revision);
        current.Version++;
        Modified = revision;
    }

    /// <summary>Records a delete. False (nothing recorded) when the key is not alive, which etcd calls
    /// ErrRevisionNotFound.</summary>
    public bool Tombstone(Revision revision)
    {
        if (generations[^1].IsEmpty)
        {
            return false;
        }
        Put(revision);
        generations.Add(new KeyGeneration());
        return true;
    }

    /// <summary>Rebuild from storage: the oldest surviving record of the key (compaction may have dropped older
    /// ones), with the create revision and version that record carries.</summary>
    public void Restore(Revision created, Revision modified, long version)
    {
        var generation = new KeyGeneration { Created = created, Version = version };
        generation.Revisions.Add(modified);
        generations = [generation];
        Modified = modified;
    }

    /// <summary>Rebuild from storage when the oldest surviving record is a tombstone (kept because it sits exactly at
    /// the compacted revision, so that a watch from there still sees the delete).</summary>
    public void RestoreTombstone(Revision revision)
    {
        Restore(Revision.Zero, revision, 1);
        generations.Add(new KeyGeneration());
    }

    /// <summary>The version of the key alive at <paramref name="atRevision"/>: its last change at or before it, the
    /// creating revision and the version number.</summary>
    public bool TryGet(long atRevision, out Revision modified, out Revision created, out long version)
    {
        modified = default;
        created = default;
        version = 0;
        var generation = FindGeneration(atRevision);
        if (generation is null)
        {
            return false;
        }
        var index = generation.FindRevisionIndex(atRevision);
        if (index < 0)
        {
            return false;
        }
        modified = generation.Revisions[index];
        created = generation.Created;
        version = generation.Version - (generation.Revisions.Count - index - 1);
        return true;
    }

    /// <summary>
    /// Drops every revision no read at or after <paramref name="atRevision"/> needs, and adds the revisions still
    /// needed at or below it to <paramref name="keep"/> (the caller deletes every other record at or below it). This is
    /// etcd's keyIndex.compact with the fix of etcd PR 18274 (backported to 3.5): a tombstone exactly at the compacted
    /// revision is kept, so a watch starting there sees the delete. Unlike etcd, every remaining generation is trimmed,
    /// not only the first: a txn may delete a key (from-key delete) and put it again in the same revision, and then the
    /// generation opened by that put also holds a revision at the compacted one, which reads there need.
    /// </summary>
    public void Compact(long atRevision, HashSet<Revision> keep)
    {
        var first = 0;
        while (first < generations.Count - 1 && generations[first].Revisions[^1].Main < atRevision)
        {
            first++; // this generation ended (tombstone) before the compacted revision: nothing reads it any more
        }
        for (var i = first; i < generations.Count; i++)
        {
            var generation = generations[i];
            var revisionIndex = generation.FindRevisionIndex(atRevision);
            if (revisionIndex >= 0)
            {
                keep.Add(generation.Revisions[revisionIndex]);
                generation.DropBefore(revisionIndex);
            }
        }
        if (first > 0)
        {
            generations.RemoveRange(0, first);
        }
    }

    public KeyHistory Clone() => new(Key) { generations = generations.ConvertAll(g => g.Clone()), Modified = Modified };

    /// <summary>etcd's findGeneration: the generation alive at <paramref name="atRevision"/>, or null when the key was
    /// deleted (or not yet created) then.</summary>
    private KeyGeneration? FindGeneration(long atRevision)
    {
        var last = generations.Count - 1;
        for (var i = last; i >= 0; i--)
        {
            var generation = generations[i];
            if (generation.IsEmpty)
            {
                continue;
            }
            if (i != last && generation.Revisions[^1].Main <= atRevision)
            {
                return null; // the tombstone closing this generation is at or before the read: deleted then
            }
            if (generation.Revisions[0].Main <= atRevision)
            {
                return generation;
            }
        }
        return null;
    }
}
