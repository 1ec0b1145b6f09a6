using System.Buffers.Binary;
using System.Globalization;

namespace CurpStore.Wal.CrashProbe;

/// <summary>
/// A child process for the WAL crash test. Appends records from several concurrent appenders (the WAL chooses the
/// indexes) until it is killed, and writes <c>A&lt;index&gt;=&lt;appender&gt;.&lt;sequence&gt;;</c> on its own line
/// for every append the WAL acknowledged as durable. The parent kills it at a random moment and checks that every
/// printed index survived with the payload printed for it. The trailing <c>;</c> lets the parent reject a line cut
/// short by the kill.
/// </summary>
public static class Program
{
    /// <summary>Stops an unattended probe: the parent always kills it long before.</summary>
    private const long MaxRecords = 1_000_000;

    /// <summary>The payload of the <paramref name="sequence"/>-th record of <paramref name="appender"/>: the two
    /// numbers, then a filler that depends on both, so a record swapped or torn between appenders cannot pass.</summary>
    public static byte[] PayloadFor(int appender, long sequence, int lengthBytes)
    {
        var payload = new byte[Math.Max(lengthBytes, 12)];
        BinaryPrimitives.WriteInt32LittleEndian(payload, appender);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), sequence);
        for (var i = 12; i < payload.Length; i++)
        {
            payload[i] = (byte)(appender * 131 + sequence * 7 + i);
        }
        return payload;
    }

    /// <summary>Arguments: directory, appender count, segment size in bytes, payload size in bytes.</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 4)
        {
            await Console.Error.WriteLineAsync("usage: <directory> <appenders> <segmentSizeBytes> <payloadBytes>");
            return 2;
        }
        var directory = args[0];
        var appenderCount = int.Parse(args[1], CultureInfo.InvariantCulture);
        var segmentSizeBytes = long.Parse(args[2], CultureInfo.InvariantCulture);
        var payloadBytes = int.Parse(args[3], CultureInfo.InvariantCulture);
        using var wal = WriteAheadLog.Open(directory, new WalOptions { SegmentSizeBytes = segmentSizeBytes });
        var output = Console.Out; // synchronized, flushes every line
        var appended = 0L;
        var appenders = Enumerable.Range(0, appenderCount).Select(appender => Task.Run(async () =>
        {
            for (var sequence = 0L; Interlocked.Increment(ref appended) <= MaxRecords; sequence++)
            {
                var index = await wal.AppendAsync(7, PayloadFor(appender, sequence, payloadBytes));
                output.WriteLine($"A{index}={appender}.{sequence};");
            }
        })).ToArray();
        await Task.WhenAll(appenders);
        return 0;
    }
}
