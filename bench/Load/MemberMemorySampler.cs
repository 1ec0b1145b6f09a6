using System.Globalization;

namespace CurpStore.Bench.Load;

/// <summary>Samples the resident memory of member processes from <c>/proc/PID/status</c> every 200 ms while a load runs.
/// The kernel's own peak (<c>VmHWM</c>) catches what falls between samples; the samples of <c>VmRSS</c> catch a
/// process whose peak counter was reset.</summary>
public sealed class MemberMemorySampler : IDisposable
{
    private readonly IReadOnlyList<int> pids;
    private readonly Timer? timer;
    private long peakSampledKb;

    public MemberMemorySampler(IReadOnlyList<int> pids)
    {
        this.pids = pids;
        timer = pids.Count == 0 ? null : new Timer(_ => Sample(), null, 0, 200);
    }

    /// <summary>The highest peak of any sampled member in KiB, or null when there are none (or none could be read).</summary>
    public long? PeakKb()
    {
        if (pids.Count == 0)
        {
            return null;
        }
        Sample();
        var highWater = pids.Select(pid => ReadStatusKb(pid, "VmHWM:") ?? 0).DefaultIfEmpty(0).Max();
        var peak = Math.Max(highWater, Interlocked.Read(ref peakSampledKb));
        return peak > 0 ? peak : null;
    }

    /// <summary>A <c>/proc/PID/status</c> line's value in KiB (such as <c>VmRSS:  123456 kB</c>); null when the process
    /// is gone or the line is missing.</summary>
    public static long? ReadStatusKb(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            var number = line?[field.Length..].Trim().Split(' ')[0];
            return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void Sample()
    {
        foreach (var pid in pids)
        {
            if (ReadStatusKb(pid, "VmRSS:") is { } rss)
            {
                long seen;
                while (rss > (seen = Interlocked.Read(ref peakSampledKb)) && Interlocked.CompareExchange(ref peakSampledKb, rss, seen) != seen)
                {
                }
            }
        }
    }

    public void Dispose() => timer?.Dispose();
}
