namespace CurpStore.Server.Storage;

/// <summary>
/// The files of a member's store engine (the FASTER directory under the data dir), measured as etcd measures its bolt
/// file for Status's <c>dbSize</c>: what the store takes on disk. Never 0 for an opened store, because the engine writes
/// its index checkpoint when it is created, as a new bolt file already holds its meta pages.
/// </summary>
public static class BackendFiles
{
    /// <summary>The bytes of every file under <paramref name="directory"/> (0 when it does not exist). The engine adds
    /// and deletes checkpoint files while this runs: a file gone between listing and measuring counts as 0.</summary>
    public static long SizeBytes(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var root = new DirectoryInfo(directory);
        if (!root.Exists)
        {
            return 0;
        }
        long total = 0;
        foreach (var file in root.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // deleted by a checkpoint after the listing
            }
        }
        return total;
    }
}
