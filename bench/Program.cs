using BenchmarkDotNet.Running;

namespace CurpStore.Bench;

internal static class Program
{
    /// <summary>`dotnet run -c Release --project bench -- --filter '*'` runs every benchmark; BenchmarkDotNet's own
    /// flags (--job short, --filter) apply.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
