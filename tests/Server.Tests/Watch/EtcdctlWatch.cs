using System.Diagnostics;
using System.Text;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Watch;

/// <summary>A running <c>etcdctl watch</c> (it runs until killed or until the server cancels its watch), or any other
/// long-running etcdctl command (<c>lock</c>, <c>elect</c>): its output so far, a bounded wait for a line, and kill by
/// its own process handle.</summary>
internal sealed class EtcdctlWatch : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder errors = new();

    private EtcdctlWatch(Process process)
    {
        this.process = process;
    }

    /// <summary>Starts <c>etcdctl watch ARGS</c>; <paramref name="stdinLines"/> go to an interactive watch.</summary>
    public static EtcdctlWatch Start(string endpoint, IReadOnlyList<string> args, IReadOnlyList<string>? stdinLines = null) =>
        StartCommand(endpoint, ["watch", .. args], stdinLines);

    /// <summary>Starts <c>etcdctl ARGS</c> (the whole command line after the global flags).</summary>
    public static EtcdctlWatch StartCommand(string endpoint, IReadOnlyList<string> args, IReadOnlyList<string>? stdinLines = null)
    {
        // stdin is always ours (never the test runner's), and stays open: an interactive watch stops at end of input.
        var process = Etcdctl.Start(Etcdctl.Command(endpoint, args, redirectStdin: true));
        var watch = new EtcdctlWatch(process);
        try
        {
            process.OutputDataReceived += (_, e) => Append(watch.output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(watch.errors, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            foreach (var line in stdinLines ?? [])
            {
                process.StandardInput.WriteLine(line);
            }
            process.StandardInput.Flush();
            return watch;
        }
        catch
        {
            watch.Dispose(); // never leave a watch running behind a failed start
            throw;
        }
    }

    /// <summary>Standard output so far.</summary>
    public string Output => Read(output);

    /// <summary>Standard error so far.</summary>
    public string Errors => Read(errors);

    public IReadOnlyList<string> Lines => Output.Split('\n').SkipLast(1).ToList();

    /// <summary>Waits until the output holds <paramref name="line"/> as a whole line; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForLineAsync(string line, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Lines.Contains(line))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM to this etcdctl (by its process id), which lets <c>lock</c> and <c>elect</c> give up their
    /// key as on Ctrl-C; waits for it to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        await WaitForExitAsync(timeout);
    }

    public void Dispose()
    {
        Etcdctl.Kill(process);
        process.Dispose();
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.Append(line).Append('\n');
        }
    }
}
