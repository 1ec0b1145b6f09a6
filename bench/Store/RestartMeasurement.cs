using System.Diagnostics;
using System.Globalization;
using CurpStore.Bench.Load;
using CurpStore.Store;
using CurpStore.Store.Faster;

namespace CurpStore.Bench.Store;

/// <summary>The restart tool's command line: <c>restart --keys N --value-size N --data-dir DIR [--reopen-only]</c>.</summary>
public sealed record RestartOptions(int Keys, int ValueSizeBytes, string DataDirectory, bool ReopenOnly = false)
{
    public const string Usage = """
        usage: bench restart --data-dir DIR [--keys N] [--value-size N] [--reopen-only]
          --data-dir DIR     where the FASTER engine is created (must be absent or empty)
          --keys N           distinct keys to fill (default 1000000)
          --value-size N     bytes per value (default 256)
          --reopen-only      skip the fill: measure a reopen of DIR, filled before with the same --keys
        """;

    public static RestartOptions Parse(IReadOnlyList<string> args)
    {
        var options = new RestartOptions(1_000_000, 256, "");
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            if (flag == "--reopen-only")
            {
                options = options with { ReopenOnly = true };
                continue;
            }
            var value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{flag} needs a value");
            options = flag switch
            {
                "--keys" => options with { Keys = LoadOptions.Positive(flag, value, 100_000_000) },
                "--value-size" => options with { ValueSizeBytes = LoadOptions.Positive(flag, value, 1_500_000) },
                "--data-dir" => options with { DataDirectory = value },
                _ => throw new ArgumentException($"unknown flag {flag}"),
            };
        }
        return options.DataDirectory.Length > 0 ? options : throw new ArgumentException("--data-dir is required");
    }
}

/// <summary>
/// Measures a restart of the etcd state machine on the FASTER engine: (a) fills a new engine with N keys through
/// <see cref="EtcdStateMachine.Apply"/> (txns of 128 puts), checkpoints and closes it; (b) in a fresh process (so that
/// nothing of the fill stays in the heap, FASTER's static buffer pools included), reopens it — engine open (FASTER
/// recovery, log preload, revision list rebuild) plus state machine construction (key index and lease table rebuild,
/// reading every record) — and reports the times and that process's memory after the reopen.
/// </summary>
public static class RestartMeasurement
{
    public static async Task<string> RunAsync(RestartOptions options, TextWriter progress)
    {
        if (options.ReopenOnly)
        {
            return MeasureReopen(options);
        }
        if (Directory.Exists(options.DataDirectory) && Directory.EnumerateFileSystemEntries(options.DataDirectory).Any())
        {
            throw new ArgumentException($"--data-dir '{options.DataDirectory}' must be absent or empty: the tool fills a new engine");
        }
        var fill = Stopwatch.StartNew();
        double checkpointSeconds;
        using (var store = new StoreUnderTest(options.DataDirectory))
        {
            var value = StoreUnderTest.Value(options.ValueSizeBytes, 3);
            const int Step = 100_000;
            for (var first = 0; first < options.Keys; first += Step)
            {
                store.PutInTxns(first, Math.Min(Step, options.Keys - first), value);
                progress.WriteLine($"filled {Math.Min(first + Step, options.Keys)} keys in {fill.Elapsed.TotalSeconds:F1} s");
            }
            var checkpoint = Stopwatch.StartNew();
            store.Engine.Checkpoint();
            checkpointSeconds = checkpoint.Elapsed.TotalSeconds;
        }
        var fillSeconds = fill.Elapsed.TotalSeconds;
        var reopen = await ReopenInChildProcess(options);
        return string.Create(CultureInfo.InvariantCulture, $"restart keys={options.Keys} value-size={options.ValueSizeBytes}: fill {fillSeconds:F1} s, checkpoint {checkpointSeconds:F2} s, {reopen}");
    }

    private static async Task<string> ReopenInChildProcess(RestartOptions options)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this process's executable");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RestartMeasurement).Assembly.Location); // run as "dotnet CurpStore.Bench.dll"
        }
        foreach (var argument in new[]
                 {
                     "restart", "--reopen-only", "--data-dir", options.DataDirectory,
                     "--keys", options.Keys.ToString(CultureInfo.InvariantCulture),
                     "--value-size", options.ValueSizeBytes.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {self}");
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        return child.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"the reopen process exited with {child.ExitCode}: {output}");
    }

    private static string MeasureReopen(RestartOptions options)
    {
        var open = Stopwatch.StartNew();
        using var engine = FasterKvEngine.Open(options.DataDirectory);
        var engineOpenMs = open.Elapsed.TotalMilliseconds;
        var machine = new EtcdStateMachine(engine);
        var reopenMs = open.Elapsed.TotalMilliseconds;

        var count = machine.Read(new RangeRequest { Key = [0], RangeEnd = [0], CountOnly = true }) as RangeResponse
            ?? throw new InvalidOperationException("the count range failed");
        if (count.Count != options.Keys)
        {
            throw new InvalidOperationException($"the reopened store holds {count.Count} keys, not {options.Keys}");
        }
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heapBytes = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        GC.KeepAlive(machine);
        return string.Create(CultureInfo.InvariantCulture,
            $"reopen {reopenMs:F0} ms (engine open {engineOpenMs:F0} ms + state machine {reopenMs - engineOpenMs:F0} ms), "
            + $"after reopen: GC heap {heapBytes / 1048576.0:F0} MiB, working set {process.WorkingSet64 / 1048576.0:F0} MiB, "
            + $"log {engine.LogSizeBytes / 1048576.0:F0} MiB, revision {machine.Revision}");
    }
}
