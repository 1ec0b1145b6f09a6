namespace CurpStore.Wal.Tests;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "curpstore-wal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The segment files, oldest first.</summary>
    public string[] Segments() => SegmentsIn(Path);

    public static string[] SegmentsIn(string directory) =>
        [.. Directory.GetFiles(directory, "wal-*.log").Order(StringComparer.Ordinal)];

    /// <summary>A sibling directory holding copies of this one's segment files (not the lock file).</summary>
    public TestDirectory CopySegments()
    {
        var copy = new TestDirectory();
        foreach (var segment in Segments())
        {
            File.Copy(segment, System.IO.Path.Combine(copy.Path, System.IO.Path.GetFileName(segment)));
        }
        return copy;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
