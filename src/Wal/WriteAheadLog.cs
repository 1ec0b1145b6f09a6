using Microsoft.Win32.SafeHandles;

namespace CurpStore.Wal;

/// <summary>
/// The write-ahead log of one member: the Raft log and persistent state as opaque records in segment files
/// <c>wal-&lt;first index, 16 hex digits&gt;.log</c>, each record checked by CRC-32C (see <see cref="RecordFormat"/>).
/// </summary>
/// <remarks>
/// <para><b>Two ways to append.</b> Concurrent callers use <see cref="AppendAsync(WalRecord, CancellationToken)"/>:
/// one writer thread takes everything queued, writes it with as few <c>write</c> calls as its staging buffer allows,
/// calls fsync once and then completes every append of the batch (group commit), so the fsync cost is shared by all
/// appenders waiting at that moment. The queue is bounded; a full queue fails the append at once with
/// <see cref="WalFullException"/>. The single-threaded server host uses <see cref="AppendBatch"/> then
/// <see cref="Sync"/>, which persists a whole Raft <c>Ready</c> with one fsync without any thread hop.</para>
/// <para><b>Order.</b> Records reach the file in the order they were accepted, across both APIs. Indexes must not
/// decrease (see <see cref="WalRecord"/>); an append below <see cref="LastIndex"/> is refused.</para>
/// <para><b>Thread safety.</b> Every public member is safe to call from any thread. Appends from many threads run
/// concurrently; <see cref="AppendBatch"/>, <see cref="Sync"/> and the truncations serialise with the writer on an
/// internal lock. <see cref="ReadFrom"/> may run concurrently with appends (it sees a prefix of the log) but not with
/// <see cref="TruncateSuffix"/>.</para>
/// <para><b>Failure.</b> After an I/O error the WAL refuses all further writes with <see cref="WalFailedException"/>
/// (see there why); reopen to recover.</para>
/// <para><b>One owner.</b> An exclusive lock on <c>wal.lock</c> in the directory stops a second process (or a second
/// instance) from appending to the same files.</para>
/// </remarks>
public sealed partial class WriteAheadLog : IDisposable
{
    private const string LockFileName = "wal.lock";

    private readonly WalOptions options;
    private readonly SafeFileHandle directoryLock;
    private readonly Thread writerThread;

    // --- Guarded by stateLock: what appenders touch. Held briefly, never across I/O except by the truncations. ---
    private readonly object stateLock = new();
    private readonly Queue<PendingAppend> queue = new();
    private long queuedBytes;
    private long lastAcceptedIndex;
    private bool writerWaiting;
    private bool writerSyncRequested;
    private int deliveriesInProgress;
    private bool closing;
    private WalFailedException? failure;

    // --- Guarded by ioLock: the files. Lock order: ioLock, then stateLock. ---
    private readonly Lock ioLock = new();
    private readonly List<Segment> segments;
    private readonly List<PendingAppend> unsynced = [];
    private readonly byte[] stagingBuffer;
    private SafeFileHandle? activeHandle;
    private int stagingCount;
    private bool activeDirty;
    private bool disposed;

    private long syncCount;
    private int disposeStarted;

    private WriteAheadLog(string directoryPath, WalOptions options, SafeFileHandle directoryLock, List<Segment> segments,
        WalRecoveryInfo recovery)
    {
        DirectoryPath = directoryPath;
        this.options = options;
        this.directoryLock = directoryLock;
        this.segments = segments;
        Recovery = recovery;
        stagingBuffer = new byte[options.WriteBufferBytes];
        lastAcceptedIndex = segments.Count > 0 ? segments[^1].LastIndex : -1;
        if (segments.Count > 0)
        {
            activeHandle = OpenForAppend(segments[^1].Path);
        }
        writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "wal-writer" };
        writerThread.Start();
    }

    /// <summary>Full path of the directory holding the segments.</summary>
    public string DirectoryPath { get; }

    /// <summary>What opening found and repaired (torn tail cut, empty segment removed).</summary>
    public WalRecoveryInfo Recovery { get; }

    /// <summary>Index of the oldest record still in a segment file, or -1 when no record is stored. After
    /// <see cref="TruncatePrefix"/> this may still be at or below the truncation point: only whole segments go.</summary>
    public long FirstIndex
    {
        get
        {
            lock (ioLock)
            {
                return segments.Count > 0 ? segments[0].FirstIndex : -1;
            }
        }
    }

    /// <summary>Index of the last accepted record (queued, written or durable), or -1 when empty. A new record's index
    /// must be at least this.</summary>
    public long LastIndex
    {
        get
        {
            lock (stateLock)
            {
                return lastAcceptedIndex;
            }
        }
    }

    /// <summary>fsync calls on segment files so far: one per group-committed batch or <see cref="Sync"/> with new
    /// data. Records appended divided by this is the batching factor.</summary>
    public long SyncCount => Interlocked.Read(ref syncCount);

    /// <summary>Number of segment files.</summary>
    public int SegmentCount
    {
        get
        {
            lock (ioLock)
            {
                return segments.Count;
            }
        }
    }

    /// <summary>
    /// Opens (creating if needed) the WAL in <paramref name="directoryPath"/> and recovers it: reads every segment in
    /// order and checks every record. A torn tail (the last record of the last segment incomplete or failing its CRC
    /// with nothing valid after it, as a crash during a write leaves it) is cut back to the last whole record and
    /// reported in <see cref="Recovery"/> and <see cref="WalOptions.Log"/>. Any other damage throws.
    /// </summary>
    /// <exception cref="WalCorruptedException">A record fails its checks anywhere but at the torn tail; the message
    /// names the file and byte offset.</exception>
    /// <exception cref="IOException">The directory is already open in this or another process, or I/O failed.</exception>
    public static WriteAheadLog Open(string directoryPath, WalOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryPath);
        options ??= new WalOptions();
        options.Validate();
        var fullPath = Path.GetFullPath(directoryPath);
        Directory.CreateDirectory(fullPath);
        var directoryLock = AcquireDirectoryLock(fullPath);
        try
        {
            var (segments, recovery) = Recover(fullPath, options);
            return new WriteAheadLog(fullPath, options, directoryLock, segments, recovery);
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops accepting appends, lets the writer make everything already queued durable (completing those appends),
    /// syncs what <see cref="AppendBatch"/> wrote, closes the files and releases the directory lock. Does not throw
    /// for an I/O failure: the affected appends have already failed with it.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposeStarted, 1) != 0)
        {
            return;
        }
        lock (stateLock)
        {
            closing = true;
            Monitor.PulseAll(stateLock);
        }
        writerThread.Join();
        lock (ioLock)
        {
            if (!HasFailed)
            {
                try
                {
                    WriteQueuedLocked();
                    SyncLocked();
                }
                catch (Exception e)
                {
                    FailLocked(e);
                }
            }
            activeHandle?.Dispose();
            activeHandle = null;
            disposed = true;
        }
        directoryLock.Dispose();
    }

    private bool HasFailed
    {
        get
        {
            lock (stateLock)
            {
                return failure is not null;
            }
        }
    }

    private static SafeFileHandle AcquireDirectoryLock(string directoryPath)
    {
        var path = Path.Combine(directoryPath, LockFileName);
        try
        {
            // FileShare.None is an exclusive flock() on Unix and a share-mode lock on Windows; the kernel drops it
            // when the process dies, so a crash never leaves the directory locked.
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"WAL directory '{directoryPath}' is already open (by this or another process): {e.Message}", e);
        }
    }

    private static SafeFileHandle OpenForAppend(string segmentPath) =>
        File.OpenHandle(segmentPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);

    /// <summary>Throws if the WAL is disposed or failed. Call with ioLock held.</summary>
    private void ThrowIfUnusableLocked()
    {
        lock (stateLock)
        {
            ObjectDisposedException.ThrowIf(closing || disposed, this);
            if (failure is not null)
            {
                throw new WalFailedException(failure.Message, failure.InnerException!);
            }
        }
    }

    /// <summary>Runs an I/O step under ioLock; an I/O error fails the WAL and surfaces as
    /// <see cref="WalFailedException"/>. Damage found in a segment (<see cref="WalCorruptedException"/>) fails it too,
    /// but is rethrown as is so the caller sees the path and offset.</summary>
    private void RunIoLocked(Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            FailLocked(e);
            if (e is WalCorruptedException)
            {
                throw;
            }
            throw new WalFailedException(failure!.Message, e);
        }
    }
}
