namespace CurpStore.Tests.Shared;

/// <summary>Finds the <c>dotnet</c> host that starts a child process (a crash probe's dll). Compiled into each test
/// project that needs it (a linked file: a shared test library for one method would be heavier).</summary>
internal static class DotnetHost
{
    /// <summary>The running <c>dotnet</c> host when the tests run under it, else the one the SDK names, else the one on
    /// PATH.</summary>
    public static string Path()
    {
        var current = Environment.ProcessPath;
        if (current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
    }
}
