using System.Text;

namespace CurpStore.Wal.Tests;

/// <summary>Record builders, log comparison and a writer gate shared by the WAL tests.</summary>
internal static class WalTestKit
{
    public const byte EntryType = 1;

    /// <summary>A record whose payload says which record it is, with a seeded length.</summary>
    public static WalRecord Record(long index, int payloadLengthBytes, string tag = "r")
    {
        var text = Encoding.ASCII.GetBytes($"{tag}:{index}:");
        var payload = new byte[Math.Max(payloadLengthBytes, 0)];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = text[i % text.Length];
        }
        return new WalRecord(EntryType, index, payload);
    }

    /// <summary><paramref name="count"/> records with indexes from <paramref name="firstIndex"/> and seeded payload
    /// lengths in [0, maxPayloadBytes].</summary>
    public static List<WalRecord> Records(long firstIndex, int count, int maxPayloadBytes, int seed, string tag = "r")
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => Record(firstIndex + i, random.Next(maxPayloadBytes + 1), tag))];
    }

    public static int EncodedLength(WalRecord record) => RecordFormat.HeaderSizeBytes + record.Payload.Length;

    public static void AssertSameRecords(IReadOnlyList<WalRecord> expected, IReadOnlyList<WalRecord> actual)
    {
        Assert.HasCount(expected.Count, actual, "record count");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.AreEqual(expected[i].Index, actual[i].Index, $"index of record {i}");
            Assert.AreEqual(expected[i].Type, actual[i].Type, $"type of record {i}");
            Assert.IsTrue(expected[i].Payload.Span.SequenceEqual(actual[i].Payload.Span), $"payload of record {i} (index {expected[i].Index})");
        }
    }

    public static List<WalRecord> ReadAll(string directory, WalOptions? options = null)
    {
        using var wal = WriteAheadLog.Open(directory, options);
        return [.. wal.ReadFrom(0)];
    }

    /// <summary>Writes records with the host's batch API and syncs, then closes the log.</summary>
    public static void WriteAndClose(string directory, IReadOnlyList<WalRecord> records, WalOptions? options = null)
    {
        using var wal = WriteAheadLog.Open(directory, options);
        wal.AppendBatch(records);
        wal.Sync();
    }
}

/// <summary>
/// Holds the WAL's writer thread (through <see cref="WalOptions.BeforeWriterTakesBatch"/>) after it woke for queued
/// records and before it takes them, so a test decides exactly what one batch contains. Waits are bounded so that a
/// bug fails the test instead of hanging it; they assert nothing about speed. Declare <c>using var release = gate;</c>
/// after the WAL so the writer is released before the WAL's dispose waits for it, even when an assertion fails.
/// </summary>
internal sealed class WriterGate : IDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly ManualResetEventSlim entered = new();
    private readonly ManualResetEventSlim released = new();

    public void Hold()
    {
        entered.Set();
        released.Wait();
    }

    public void WaitUntilWriterHeld() =>
        Assert.IsTrue(entered.Wait(SafetyTimeout), "the writer never woke for the queued record");

    public void Release() => released.Set();

    /// <summary>Releases the writer (the events stay undisposed: the writer may still be returning from its wait).</summary>
    public void Dispose() => released.Set();
}
