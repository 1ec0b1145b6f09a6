using System.Runtime.InteropServices;

namespace CurpStore.Rig;

/// <summary>Puts the calling thread in the real-time scheduling class, so that a link's delay is kept on a busy
/// machine, and sleeps with the kernel's timer precision.</summary>
/// <remarks>
/// Measured here (2 cores, load average 25-30 from parallel builds): with ordinary thread-pool continuations and
/// timers a 30 ms link measured 65-70 ms round trips instead of 60; with dedicated threads at nice -10 and
/// <c>usleep</c>, the three-region matrix came within +0.5 to +3.3 ms; the real-time class takes the wake-up
/// latency out. The threads that get it block almost all the time (one read, one timed write per chunk), and the
/// kernel's real-time throttling keeps 5% of each second for everything else in any case.
/// </remarks>
internal static partial class ThreadPriority
{
    private const int ProcessPriority = 0; // PRIO_PROCESS; with who = 0 Linux applies it to the calling thread only

    private const int RaisedNice = -10;

    private const int FirstInFirstOut = 1; // SCHED_FIFO

    private const int RealTimePriority = 10;

    /// <summary>Best effort: real-time if allowed (root or CAP_SYS_NICE), else nice -10, else unchanged (the delay is
    /// then less exact).</summary>
    /// <returns>Whether the thread runs in the real-time class.</returns>
    public static bool Raise()
    {
        var parameter = RealTimePriority;
        if (SetScheduler(0, FirstInFirstOut, ref parameter) == 0)
        {
            return true;
        }
        _ = SetPriority(ProcessPriority, 0, RaisedNice);
        return false;
    }

    /// <summary>Sleeps the calling thread for <paramref name="microseconds"/>.</summary>
    public static void SleepMicroseconds(long microseconds)
    {
        // usleep takes at most a second on some C libraries.
        for (var left = microseconds; left > 0; left -= 999_999)
        {
            _ = Sleep((uint)Math.Min(left, 999_999));
        }
    }

    [LibraryImport("libc", EntryPoint = "usleep", SetLastError = true)]
    private static partial int Sleep(uint microseconds);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SetScheduler(int threadId, int policy, ref int priority);
}
