using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CurpStore.Bench.Load;

namespace CurpStore.Bench;

internal static class Program
{
    /// <summary>
    /// <c>put|range|txn|mixed ...</c> runs the load tool against any etcd v3 endpoint; anything else goes to
    /// BenchmarkDotNet (<c>--filter '*'</c> runs every micro-benchmark, in-process: the default out-of-process toolchain
    /// generates a project that would inherit this repository's build settings and central package versions).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "put" or "range" or "txn" or "mixed")
        {
            LoadOptions options;
            try
            {
                options = LoadOptions.Parse(args);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"bench: {e.Message}");
                Console.Error.WriteLine(LoadOptions.Usage);
                return 2;
            }
            var result = await LoadRunner.RunAsync(options, Console.Error);
            Console.WriteLine(result.Summary());
            return result.Succeeded > 0 ? 0 : 1;
        }
        var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
