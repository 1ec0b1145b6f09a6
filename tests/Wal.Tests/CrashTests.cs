using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CurpStore.Tests.Shared;
using CurpStore.Wal.CrashProbe;

namespace CurpStore.Wal.Tests;

/// <summary>
/// The process-level crash test: a child process (Wal.CrashProbe) appends from several concurrent appenders and
/// prints every acknowledged index; the test kills it at a random moment, reopens the log and checks that every
/// acknowledged record is there, whole, and that indexes only go forward. Small segments make kills land around
/// rollovers too. Seeded: the kill points are chosen as "after the n-th acknowledgement", so a failure names its seed.
/// </summary>
[TestClass]
public sealed partial class CrashTests
{
    private const int Rounds = 10;
    private const int Appenders = 8;
    private const int PayloadBytes = 100;
    private const long SegmentSizeBytes = 16 * 1024;
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task KilledAtRandomMoments_EveryAcknowledgedAppendSurvives_AndIndexesNeverGoBackwards()
    {
        using var dir = new TestDirectory();
        var acknowledged = new Dictionary<long, (int Appender, long Sequence)>();
        var random = new Random(2026);
        var lastIndexAfterRecovery = 0L;
        for (var round = 0; round < Rounds; round++)
        {
            var killAfterAcknowledgements = random.Next(1, 600);
            var acks = await RunProbeAndKill(dir.Path, killAfterAcknowledgements);
            var context = $"round {round}, killed after {killAfterAcknowledgements} acknowledgements";
            Assert.IsGreaterThanOrEqualTo(killAfterAcknowledgements, acks.Count, context);
            foreach (var (index, appender, sequence) in acks)
            {
                Assert.IsGreaterThan(lastIndexAfterRecovery, index,
                    $"{context}: index {index} was handed out again after a restart that recovered up to {lastIndexAfterRecovery}");
                Assert.IsTrue(acknowledged.TryAdd(index, (appender, sequence)), $"{context}: index {index} acknowledged twice");
            }

            using var wal = WriteAheadLog.Open(dir.Path, new WalOptions { SegmentSizeBytes = SegmentSizeBytes });
            var records = wal.ReadFrom(0).ToList();
            for (var i = 1; i < records.Count; i++)
            {
                Assert.IsGreaterThan(records[i - 1].Index, records[i].Index, $"{context}: indexes go backwards at record {i}");
            }
            var byIndex = records.ToDictionary(r => r.Index);
            foreach (var (index, (appender, sequence)) in acknowledged)
            {
                Assert.IsTrue(byIndex.TryGetValue(index, out var record), $"{context}: acknowledged index {index} is missing");
                Assert.IsTrue(record.Payload.Span.SequenceEqual(Program.PayloadFor(appender, sequence, PayloadBytes)),
                    $"{context}: index {index} holds another payload than acknowledged");
            }
            Assert.IsGreaterThanOrEqualTo(lastIndexAfterRecovery, wal.LastIndex, $"{context}: the log shrank below what survived before");
            lastIndexAfterRecovery = wal.LastIndex;
        }
        Assert.IsGreaterThan(Rounds, acknowledged.Count);
    }

    /// <summary>Starts the probe, reads acknowledgements until <paramref name="killAfterAcknowledgements"/> arrived,
    /// kills it, and returns every acknowledgement it printed before dying.</summary>
    private static async Task<List<(long Index, int Appender, long Sequence)>> RunProbeAndKill(string directory, int killAfterAcknowledgements)
    {
        var start = new ProcessStartInfo(DotnetHost.Path())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "CurpStore.Wal.CrashProbe.dll"), directory,
                     Appenders.ToString(CultureInfo.InvariantCulture), SegmentSizeBytes.ToString(CultureInfo.InvariantCulture),
                     PayloadBytes.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }
        using var safety = new CancellationTokenSource(SafetyTimeout);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync(safety.Token);
        var acks = new List<(long, int, long)>();
        string? line;
        while (acks.Count < killAfterAcknowledgements && (line = await process.StandardOutput.ReadLineAsync(safety.Token)) is not null)
        {
            AddAcknowledgement(acks, line);
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone: reported below through its exit code.
        }
        // Lines printed before the kill are acknowledgements too. A line the kill cut short has no trailing ';'.
        while ((line = await process.StandardOutput.ReadLineAsync(safety.Token)) is not null)
        {
            AddAcknowledgement(acks, line, mayBeCutShort: true);
        }
        await process.WaitForExitAsync(safety.Token);
        if (acks.Count < killAfterAcknowledgements)
        {
            Assert.Fail($"the probe exited with {process.ExitCode} after {acks.Count} acknowledgements: {await errors}");
        }
        return acks;
    }

    private static void AddAcknowledgement(List<(long, int, long)> acks, string line, bool mayBeCutShort = false)
    {
        var match = AcknowledgementLine().Match(line);
        if (match.Success)
        {
            acks.Add((long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture)));
        }
        else if (!mayBeCutShort)
        {
            Assert.Fail($"unexpected probe output: '{line}'");
        }
    }

    [GeneratedRegex(@"^A(\d+)=(\d+)\.(\d+);$")]
    private static partial Regex AcknowledgementLine();
}
