namespace CurpStore.Store;

/// <summary>
/// One life of a key in the key index (etcd's generation): from the put that created it to the tombstone that ended it
/// (the tombstone is its last revision). <see cref="Version"/> counts every revision the generation ever had, so it
/// stays right after compaction trims old <see cref="Revisions"/>.
/// </summary>
internal sealed class KeyGeneration
{
    public long Version { get; set; }

    public Revision Created { get; set; }

    public List<Revision> Revisions { get; private set; } = [];

    public bool IsEmpty => Revisions.Count == 0;

    /// <summary>The index of the last revision with Main &lt;= <paramref name="atRevision"/>, or -1.</summary>
    public int FindRevisionIndex(long atRevision)
    {
        int low = 0, high = Revisions.Count - 1, found = -1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            if (Revisions[mid].Main <= atRevision)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found;
    }

    public void DropBefore(int index) => Revisions.RemoveRange(0, index);

    public KeyGeneration Clone() => new() { Version = Version, Created = Created, Revisions = [.. Revisions] };
}
