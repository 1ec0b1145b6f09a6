using CurpStore.Store.Faster;

namespace CurpStore.Store.Tests;

/// <summary>FASTER engines of one test, each in its own directory under the system temp folder; <see cref="Delete"/>
/// removes them all once the engines are disposed.</summary>
internal sealed class FasterEngineDirectories
{
    private readonly List<string> directories = [];

    public static string Root { get; } = Path.Combine(Path.GetTempPath(), "curpstore-store-tests");

    public string NewDirectory()
    {
        var directory = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        lock (directories)
        {
            directories.Add(directory);
        }
        return directory;
    }

    public FasterKvEngine Create(FasterKvEngineOptions? options = null) => FasterKvEngine.Open(NewDirectory(), options ?? FasterKvEngineOptions.Small);

    /// <summary>A restart after a checkpoint: checkpoint, close, recover.</summary>
    public static FasterKvEngine Reopen(IKvEngine engine, FasterKvEngineOptions? options = null)
    {
        var faster = (FasterKvEngine)engine;
        faster.Checkpoint();
        faster.Dispose();
        return FasterKvEngine.Open(faster.Directory, options ?? FasterKvEngineOptions.Small);
    }

    public void Delete()
    {
        lock (directories)
        {
            foreach (var directory in directories.Where(Directory.Exists))
            {
                Directory.Delete(directory, recursive: true);
            }
            directories.Clear();
        }
    }
}
