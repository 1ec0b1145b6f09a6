using System.Globalization;
using CurpStore.Store.Faster;

namespace CurpStore.Store.CrashProbe;

/// <summary>
/// A child process for the FASTER engine's crash test. Opens (recovers) the engine, then commits
/// <see cref="CrashBatches"/> from the index after the recovered one and checkpoints after every few commits, until
/// killed. Prints <c>S&lt;index&gt;;</c> before a checkpoint starts and <c>C&lt;index&gt;;</c> once it returned (is
/// durable); the trailing <c>;</c> lets the parent reject a line cut short by the kill.
/// </summary>
public static class Program
{
    /// <summary>Stops an unattended probe: the parent always kills it long before.</summary>
    private const long MaxCommits = 200_000;

    /// <summary>The engine options of the probe and of the test that checks its directory: small pages and memory, and
    /// log compaction from half a megabyte, so that kills land in evictions and compactions too.</summary>
    public static FasterKvEngineOptions Options { get; } = FasterKvEngineOptions.Small with { CompactionMinLogBytes = 512 << 10 };

    /// <summary>Arguments: directory, seed (for the checkpoint cadence only: the content depends on the index).</summary>
    public static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: <directory> <seed>");
            return 2;
        }
        var random = new Random(int.Parse(args[1], CultureInfo.InvariantCulture));
        using var engine = FasterKvEngine.Open(args[0], Options);
        var output = Console.Out; // flushes every line
        var index = (long)engine.CheckpointedConsistentIndex;
        output.WriteLine($"R{index};");
        for (var commits = 0; commits < MaxCommits;)
        {
            var burst = random.Next(1, 6);
            for (var i = 0; i < burst; i++, commits++)
            {
                engine.Commit(CrashBatches.For(++index));
            }
            output.WriteLine($"S{index};");
            engine.Checkpoint();
            output.WriteLine($"C{index};");
        }
        return 0;
    }
}
