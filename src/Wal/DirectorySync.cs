using System.Runtime.InteropServices;

namespace CurpStore.Wal;

/// <summary>
/// fsync of a directory, so that creating or deleting a segment file is itself durable. POSIX does not promise that
/// <c>fsync</c> of a new file makes its directory entry durable; without this a crash could lose a whole segment of
/// acknowledged records, or bring back a deleted one after a suffix truncation. .NET has no API for it (it refuses to
/// open a directory as a file), hence two libc calls.
/// </summary>
/// <remarks>Thread-safe: stateless. Public because the FASTER store engine makes its checkpoint files durable the same
/// way.</remarks>
public static class DirectorySync
{
    private const int ReadOnlyFlag = 0; // O_RDONLY: enough to fsync a directory on Linux and macOS.

    /// <summary>fsyncs the directory itself (its entries), not the files in it.</summary>
    public static void Flush(string directoryPath)
    {
        if (OperatingSystem.IsWindows())
        {
            // NTFS journals metadata, and Windows has no way to flush a directory handle.
            return;
        }
        var descriptor = NativeMethods.open(directoryPath, ReadOnlyFlag);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open directory '{directoryPath}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (NativeMethods.fsync(descriptor) != 0)
            {
                throw new IOException($"fsync of directory '{directoryPath}' failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = NativeMethods.close(descriptor);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int descriptor);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int descriptor);
    }
}
