using System.Text;
using CurpStore.Wal;
using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>Opening (create or recover), checkpoints and log compaction.</summary>
public sealed partial class FasterKvEngine
{
    /// <summary>Written once a new engine's first checkpoint is durable: an engine directory without it was never
    /// opened successfully, one with it must recover a checkpoint or fail.</summary>
    private const string MarkerFileName = "curpstore-engine";
    private const string LogDirectoryName = "log";
    private const string CheckpointDirectoryName = "checkpoints";
    private static readonly byte[] MarkerContent = Encoding.UTF8.GetBytes("CurpStore FASTER engine, format 1\n");

    /// <summary>
    /// Opens the engine in <paramref name="directory"/>: recovers its last completed checkpoint, or creates an empty
    /// engine when the directory is new (absent or empty). A directory whose checkpoint is missing or damaged fails with
    /// an <see cref="InvalidDataException"/> naming it: an engine never comes back silently empty.
    /// </summary>
    public static FasterKvEngine Open(string directory, FasterKvEngineOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new FasterKvEngineOptions();
        options.Validate();
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        var initialized = File.Exists(Path.Combine(directory, MarkerFileName));
        if (!initialized)
        {
            PrepareNewDirectory(directory);
        }
        var engine = new FasterKvEngine(directory, options);
        try
        {
            if (initialized)
            {
                engine.Recover();
            }
            else
            {
                engine.TakeCheckpoint();
                WriteMarker(directory);
            }
            return engine;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>A directory without the marker may only hold what an interrupted creation leaves (a log without a
    /// checkpoint: nothing was ever committed there), which is removed. Anything else is refused rather than
    /// overwritten.</summary>
    private static void PrepareNewDirectory(string directory)
    {
        var checkpoints = Path.Combine(directory, CheckpointDirectoryName);
        if (System.IO.Directory.Exists(checkpoints) && System.IO.Directory.EnumerateFileSystemEntries(checkpoints).Any())
        {
            throw new InvalidDataException(
                $"'{directory}' holds FASTER checkpoints but no '{MarkerFileName}' marker: a damaged engine directory (or a creation interrupted after its first checkpoint); remove it to start empty");
        }
        var foreign = System.IO.Directory.EnumerateFileSystemEntries(directory)
            .Select(Path.GetFileName)
            .Where(name => name is not (LogDirectoryName or CheckpointDirectoryName) && name != MarkerFileName + ".tmp")
            .ToList();
        if (foreign.Count > 0)
        {
            throw new InvalidDataException(
                $"'{directory}' is not empty and not a FASTER engine directory (it holds {string.Join(", ", foreign.Take(5))}); refusing to create an engine there");
        }
        foreach (var leftover in new[] { LogDirectoryName, CheckpointDirectoryName })
        {
            var path = Path.Combine(directory, leftover);
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
        }
    }

    /// <summary>Temp file, fsync, rename, fsync of the directory: the marker is either absent or whole.</summary>
    private static void WriteMarker(string directory)
    {
        var temporary = Path.Combine(directory, MarkerFileName + ".tmp");
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(MarkerContent);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, Path.Combine(directory, MarkerFileName), overwrite: true);
        DirectorySync.Flush(directory);
    }

    private void Recover()
    {
        var marker = File.ReadAllBytes(Path.Combine(Directory, MarkerFileName));
        if (!marker.AsSpan().SequenceEqual(MarkerContent))
        {
            throw Damaged($"its '{MarkerFileName}' marker names another format", inner: null);
        }
        CheckpointMeta recovered;
        try
        {
            // Without preloading, FASTER recovers with only the tail page in memory, and since reads do not copy
            // records back (ReadCopyOptions.None), every older record would stay a disk read for good.
            store.Recover(numPagesToPreload: (int)(options.LogMemorySizeBytes / options.PageSizeBytes) - 1);
            recovered = CheckpointMeta.Decode(store.RecoveredCommitCookie);
            RebuildRevisionIndex();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Damaged($"its last checkpoint cannot be recovered: {e.Message}", e);
        }
        if (revisions.Count != recovered.LiveRecordCount)
        {
            throw Damaged($"its log holds {revisions.Count} live records but its last checkpoint recorded {recovered.LiveRecordCount}", inner: null);
        }
        meta = recovered.Meta;
        CheckpointedConsistentIndex = ConsistentIndexOf(meta);
    }

    /// <summary>
    /// Rebuilds the ordered revision list by one sequential pass over the recovered log (etcd rebuilds its treeIndex
    /// from the "key" bucket the same way). The log holds every version of a record in write order, and FASTER only
    /// ever updates a record in place when it is the newest version, so the last entry of a revision in log order is
    /// its state: a record, or a tombstone (deleted).
    /// </summary>
    private void RebuildRevisionIndex()
    {
        var logged = new Revision[1024];
        var addresses = new long[1024];
        var tombstones = new List<int>();
        var count = 0;
        var ascending = true;
        using (var iterator = store.Log.Scan(store.Log.BeginAddress, store.Log.TailAddress))
        {
            while (iterator.GetNext(out var recordInfo))
            {
                var revision = RevisionKey.Read(iterator.GetKey().AsReadOnlySpan());
                if (count == logged.Length)
                {
                    Array.Resize(ref logged, logged.Length * 2);
                    Array.Resize(ref addresses, addresses.Length * 2);
                }
                ascending &= count == 0 || logged[count - 1] < revision;
                if (recordInfo.Tombstone)
                {
                    tombstones.Add(count);
                }
                addresses[count] = iterator.CurrentAddress;
                logged[count++] = revision;
            }
        }
        if (ascending && tombstones.Count == 0)
        {
            revisions.Reset(logged, addresses, count); // the common case: revisions only grow, nothing was ever deleted
            deadRecordCount = 0;
            return;
        }
        // Sort by revision, carrying each entry's log position; of each revision's entries the latest in the log wins.
        var positions = new int[count];
        for (var i = 0; i < count; i++)
        {
            positions[i] = i;
        }
        var isTombstone = new bool[count];
        foreach (var position in tombstones)
        {
            isTombstone[position] = true;
        }
        Array.Sort(logged, positions, 0, count);
        var liveAddresses = new long[logged.Length];
        var live = 0;
        for (var i = 0; i < count;)
        {
            var latest = positions[i];
            var next = i + 1;
            for (; next < count && logged[next] == logged[i]; next++)
            {
                latest = Math.Max(latest, positions[next]);
            }
            if (!isTombstone[latest])
            {
                liveAddresses[live] = addresses[latest];
                logged[live++] = logged[i];
            }
            i = next;
        }
        revisions.Reset(logged, liveAddresses, live);
        deadRecordCount = count - live;
    }

    /// <summary>A full FASTER checkpoint (hash index and log) with the meta space as its commit cookie, completed and
    /// made durable before returning; FASTER then removes the previous checkpoint.</summary>
    private void TakeCheckpoint()
    {
        store.CommitCookie = new CheckpointMeta(meta, revisions.Count).Encode();
        var (started, _) = store.TakeFullCheckpointAsync(options.CheckpointKind).AsTask().GetAwaiter().GetResult();
        if (!started)
        {
            throw new InvalidOperationException($"FASTER refused to start a checkpoint in '{Directory}'");
        }
        // FASTER writes its files write-through but never fsyncs the directories that name them.
        FlushDirectories(Path.Combine(Directory, CheckpointDirectoryName));
        DirectorySync.Flush(Path.Combine(Directory, LogDirectoryName));
        CheckpointedConsistentIndex = ConsistentIndexOf(meta);
        changedSinceCheckpoint = false;
    }

    /// <summary>
    /// Once dead records are at least as many as live ones in a log of at least
    /// <see cref="FasterKvEngineOptions.CompactionMinLogBytes"/>, copies the live records of the immutable part of the
    /// log to its tail and moves the begin address past them; returns whether it did. The files below the begin address
    /// stay until the checkpoint that follows is durable, so until then the previous checkpoint stays recoverable.
    /// </summary>
    private bool CompactLogIfWorthIt()
    {
        if (LogSizeBytes < options.CompactionMinLogBytes || deadRecordCount < Math.Max(1, revisions.Count))
        {
            return false;
        }
        var untilAddress = store.Log.SafeReadOnlyAddress;
        if (untilAddress <= store.Log.BeginAddress)
        {
            return false;
        }
        session.Compact(untilAddress, CompactionType.Lookup);
        deadRecordCount = 0;
        return true;
    }

    private static void FlushDirectories(string root)
    {
        foreach (var child in System.IO.Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            DirectorySync.Flush(child);
        }
        DirectorySync.Flush(root);
    }

    private static ulong ConsistentIndexOf(SortedDictionary<string, byte[]> meta) =>
        (ulong)(StoreMeta.DecodeInt64(meta.GetValueOrDefault(StoreMeta.ConsistentIndex)) ?? 0);

    private InvalidDataException Damaged(string reason, Exception? inner) =>
        new($"the FASTER engine in '{Directory}' cannot be opened: {reason}", inner);
}
