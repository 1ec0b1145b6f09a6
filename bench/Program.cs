using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CurpStore.Bench.Geo;
using CurpStore.Bench.Load;
using CurpStore.Bench.Store;

namespace CurpStore.Bench;

internal static class Program
{
    /// <summary>
    /// <c>put|range|txn|mixed ...</c> runs the load tool against any etcd v3 endpoint; <c>geo ...</c> runs the geo
    /// benchmark through the WAN rig (bench/Geo, bench/geo-bench.sh); <c>restart ...</c> measures a
    /// restart of the state machine on the FASTER engine (bench/Store/RestartMeasurement.cs); anything else goes to
    /// BenchmarkDotNet (<c>--filter '*'</c> runs every micro-benchmark, in-process: the default out-of-process toolchain
    /// generates a project that would inherit this repository's build settings and central package versions).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "put" or "range" or "txn" or "mixed")
        {
            if (ParseOrExplain(() => LoadOptions.Parse(args), LoadOptions.Usage) is not { } options)
            {
                return 2;
            }
            var result = await LoadRunner.RunAsync(options, Console.Error);
            Console.WriteLine(result.Summary());
            return result.Succeeded > 0 ? 0 : 1;
        }
        if (args.Length > 0 && args[0] == "geo")
        {
            if (ParseOrExplain(() => GeoOptions.Parse(args), GeoOptions.Usage) is not { } geo)
            {
                return 2;
            }
            var points = await GeoBenchmark.RunAsync(geo, Console.Out);
            var summary = GeoReport.Summary(points);
            await File.WriteAllTextAsync(Path.Combine(geo.OutputDirectory, "summary.md"), summary);
            Console.WriteLine(summary);
            if (geo.Plots)
            {
                foreach (var png in GeoReport.Plot(points, geo.OutputDirectory))
                {
                    Console.WriteLine($"plot: {png}");
                }
            }
            if (geo.ReadmePath is { } readme)
            {
                GeoReport.WriteIntoReadme(readme, summary);
                Console.WriteLine($"summary written into {readme}");
            }
            return 0;
        }
        if (args.Length > 0 && args[0] == "restart")
        {
            if (ParseOrExplain(() => RestartOptions.Parse(args), RestartOptions.Usage) is not { } restart)
            {
                return 2;
            }
            Console.WriteLine(await RestartMeasurement.RunAsync(restart, Console.Error));
            return 0;
        }
        var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }

    /// <summary>Parses a tool's command line; on a bad one prints why and the usage, and returns null.</summary>
    private static T? ParseOrExplain<T>(Func<T> parse, string usage)
        where T : class
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"bench: {e.Message}");
            Console.Error.WriteLine(usage);
            return null;
        }
    }
}
