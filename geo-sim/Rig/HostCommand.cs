using System.Diagnostics;

namespace CurpStore.Rig;

/// <summary>Runs the host tools the rig drives (<c>ip</c>, <c>iptables-restore</c>) and fails loudly.</summary>
internal static class HostCommand
{
    private const int TimeoutMs = 60_000;

    /// <summary>Runs <paramref name="program"/> and returns its standard output.</summary>
    /// <exception cref="RigException">It could not start, timed out or exited with a non-zero code.</exception>
    public static string Run(string program, IEnumerable<string> arguments, string? standardInput = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var line = $"{program} {string.Join(' ', info.ArgumentList)}";
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new RigException($"could not start: {line}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RigException($"could not start {program} ({e.Message}); the rig needs iproute2 and iptables (apt-get install -y iproute2 iptables)", e);
        }
        using (process)
        {
            if (standardInput is not null)
            {
                process.StandardInput.Write(standardInput);
                process.StandardInput.Close();
            }
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeoutMs))
            {
                process.Kill();
                throw new RigException($"timed out after {TimeoutMs / 1000} s: {line}");
            }
            if (process.ExitCode != 0)
            {
                throw new RigException($"failed with exit code {process.ExitCode}: {line}\n{error.Result.Trim()}");
            }
            return output.Result;
        }
    }

    /// <summary>Runs <paramref name="program"/>, ignoring failure (for idempotent clean-up of what may be gone).</summary>
    public static void RunIgnoringFailure(string program, params string[] arguments)
    {
        try
        {
            Run(program, arguments);
        }
        catch (RigException)
        {
            // already gone
        }
    }
}
