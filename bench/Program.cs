using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CurpStore.Bench;

internal static class Program
{
    /// <summary>`dotnet run -c Release --project bench -- --filter '*'` runs every benchmark. They run in-process: the
    /// default out-of-process toolchain generates a project that would inherit this repository's build settings and
    /// central package versions, and cannot find an assembly named unlike its project file.</summary>
    public static void Main(string[] args)
    {
        var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
