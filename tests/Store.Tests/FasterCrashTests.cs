using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CurpStore.Tests.Shared;
using CurpStore.Store.CrashProbe;
using CurpStore.Store.Faster;

namespace CurpStore.Store.Tests;

/// <summary>
/// The process-level crash test of the FASTER engine: a child process (Store.CrashProbe) commits and checkpoints in a
/// loop and prints every checkpoint it completed; the test kills it (SIGKILL) at a random moment, reopens the engine and
/// checks that it came back at a checkpoint — the last acknowledged one or the one in flight at the kill — with exactly
/// that checkpoint's records and meta, and that the consistent index never goes backwards. Kills land in commits,
/// checkpoints, log compactions and snapshot-style clears. Seeded: kill points are "after the n-th acknowledgement".
/// </summary>
[TestClass]
public sealed partial class FasterCrashTests
{
    private const int Rounds = 8;
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(120);

    [TestMethod]
    public async Task KilledAtRandomMoments_ReopensAtACheckpoint_WithExactlyItsState_NeverGoingBackwards()
    {
        var directories = new FasterEngineDirectories();
        try
        {
            var directory = directories.NewDirectory();
            var random = new Random(2027);
            var recovered = 0L;
            var model = new ModelState();
            for (var round = 0; round < Rounds; round++)
            {
                var killAfterCheckpoints = random.Next(1, 80);
                var run = await RunProbeAndKill(directory, round, killAfterCheckpoints);
                var context = $"round {round}, killed after {killAfterCheckpoints} checkpoints";
                Assert.AreEqual(recovered, run.StartedAt, $"{context}: the probe did not start where the last recovery ended");

                using var engine = FasterKvEngine.Open(directory, Program.Options);
                var index = (long)engine.CheckpointedConsistentIndex;
                Assert.IsGreaterThanOrEqualTo(run.LastCompleted, index, $"{context}: acknowledged checkpoint {run.LastCompleted} was lost");
                Assert.IsTrue(index == run.LastCompleted || index == run.InFlight,
                    $"{context}: recovered index {index} is not a checkpoint (last acknowledged {run.LastCompleted}, in flight {run.InFlight})");
                model.AdvanceTo(index);
                CollectionAssert.AreEqual(model.Records(), engine.ScanRecords(Revision.Zero).ToArray(), $"{context}: records differ from checkpoint {index}");
                CollectionAssert.AreEqual(model.MetaText(), MetaText(engine), $"{context}: meta differs from checkpoint {index}");
                recovered = index;
            }
            Assert.IsGreaterThan(Rounds, recovered, "the probe should have checkpointed at least once per round");
        }
        finally
        {
            directories.Delete();
        }
    }

    /// <summary>The expected state at an index: the probe's batches from 1 on, on an in-memory engine.</summary>
    private sealed class ModelState
    {
        private readonly InMemoryKvEngine engine = new();
        private long index;

        public void AdvanceTo(long target)
        {
            while (index < target)
            {
                engine.Commit(CrashBatches.For(++index));
            }
        }

        public KvRecord[] Records() => [.. engine.ScanRecords(Revision.Zero)];

        public string[] MetaText() => FasterCrashTests.MetaText(engine);
    }

    private static string[] MetaText(IKvEngine engine) => [.. engine.ScanMeta("").Select(e => $"{e.Key}={Convert.ToHexString(e.Value)}")];

    private sealed record ProbeRun(long StartedAt, long LastCompleted, long InFlight);

    /// <summary>Starts the probe, reads its lines until <paramref name="killAfterCheckpoints"/> checkpoints completed,
    /// kills it, and returns where it started, its last acknowledged checkpoint and the one it had started after that
    /// (if any).</summary>
    private static async Task<ProbeRun> RunProbeAndKill(string directory, int seed, int killAfterCheckpoints)
    {
        var start = new ProcessStartInfo(DotnetHost.Path())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CurpStore.Store.CrashProbe.dll"));
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(seed.ToString(CultureInfo.InvariantCulture));
        using var safety = new CancellationTokenSource(SafetyTimeout);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync(safety.Token);
        long startedAt = -1, lastCompleted = -1, inFlight = -1;
        var completed = 0;
        string? line;
        while (completed < killAfterCheckpoints && (line = await process.StandardOutput.ReadLineAsync(safety.Token)) is not null)
        {
            Read(line, mayBeCutShort: false);
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone: reported below.
        }
        // Lines printed before the kill count too; a line the kill cut short has no trailing ';'.
        while ((line = await process.StandardOutput.ReadLineAsync(safety.Token)) is not null)
        {
            Read(line, mayBeCutShort: true);
        }
        await process.WaitForExitAsync(safety.Token);
        if (completed < killAfterCheckpoints)
        {
            Assert.Fail($"the probe exited with {process.ExitCode} after {completed} checkpoints: {await errors}");
        }
        return new ProbeRun(startedAt, lastCompleted, inFlight);

        void Read(string text, bool mayBeCutShort)
        {
            var match = ProbeLine().Match(text);
            if (!match.Success)
            {
                Assert.IsTrue(mayBeCutShort, $"unexpected probe output: '{text}'");
                return;
            }
            var index = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            switch (match.Groups[1].Value)
            {
                case "R":
                    startedAt = index;
                    lastCompleted = index;
                    break;
                case "S":
                    inFlight = index;
                    break;
                default:
                    lastCompleted = index;
                    completed++;
                    break;
            }
        }
    }

    [GeneratedRegex(@"^([RSC])(\d+);$")]
    private static partial Regex ProbeLine();
}
