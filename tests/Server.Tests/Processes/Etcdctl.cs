using System.ComponentModel;
using System.Diagnostics;

namespace CurpStore.Server.Tests.Processes;

/// <summary>Runs Debian's <c>etcdctl</c> (API v3) against one endpoint, bounded in time; a missing etcdctl fails the
/// test with the install command. Processes are ended by their own handle, never by name.</summary>
internal static class Etcdctl
{
    public const string InstallHint = "etcdctl is required: install it with `sudo apt-get install -y etcd-client`";

    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>etcdctl --endpoints ENDPOINT --command-timeout=10s ARGS</c>, output redirected.</summary>
    public static ProcessStartInfo Command(string endpoint, IEnumerable<string> args, bool redirectStdin = false)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectStdin, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add("--endpoints");
        info.ArgumentList.Add(endpoint);
        info.ArgumentList.Add("--command-timeout=10s");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    public static Process Start(ProcessStartInfo info)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"{InstallHint} ({e.Message})");
            throw;
        }
    }

    /// <summary>Runs one command to its end (at most <see cref="RunTimeout"/>); <paramref name="stdin"/> is its whole
    /// input. Returns the exit code and stdout followed by stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string endpoint, IReadOnlyList<string> args, string? stdin = null)
    {
        var (exitCode, stdout, stderr) = await RunToEndAsync(endpoint, args, stdin);
        return (exitCode, stdout + stderr);
    }

    /// <summary>As <see cref="RunAsync"/>, with standard output and standard error apart.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(string endpoint, IReadOnlyList<string> args, string? stdin = null)
    {
        using var process = Start(Command(endpoint, args, stdin is not null));
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var timeout = new CancellationTokenSource(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            Assert.Fail($"etcdctl {string.Join(' ', args)} did not finish within {RunTimeout}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Ends a process this test started, if it still runs.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}
