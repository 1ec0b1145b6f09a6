using CurpStore.GeoSim.Cluster;

namespace CurpStore.GeoSim;

/// <summary>Entry point of the simulator: one run with a report, or a sweep over many seeds that names every failing
/// seed so it replays exactly.</summary>
internal static class Program
{
    /// <summary>Exit code for a bad command line, distinct from a failed run (1).</summary>
    private const int UsageExitCode = 2;

    public static int Main(string[] args)
    {
        SimOptions options;
        Topology topology;
        try
        {
            options = SimOptionsParser.Parse(args);
            if (options.Help)
            {
                Console.WriteLine(SimOptionsParser.Usage);
                return 0;
            }
            topology = TopologyLoader.Load(TopologyLoader.ResolvePath(options.TopologyPath));
            if (options.LeaderRegion is { } leaderRegion && !topology.PlacementFor(options.Nodes).Contains(leaderRegion))
            {
                throw new SimOptionsException($"--leader-region {leaderRegion}: no member of the {options.Nodes}-member placement is there");
            }
        }
        catch (Exception e) when (e is SimOptionsException or TopologyException or FileNotFoundException)
        {
            Console.Error.WriteLine($"geo-sim: {e.Message}");
            Console.Error.WriteLine(SimOptionsParser.Usage);
            return UsageExitCode;
        }
        return options.Sweep is { } seeds ? Sweep(options, topology, seeds) : RunOnce(options, topology);
    }

    private static int RunOnce(SimOptions options, Topology topology)
    {
        var result = new SimCluster(options, topology).Run();
        var report = RunReporter.Build(result, topology);
        if (options.Json)
        {
            Console.WriteLine(report.ToJson());
        }
        else
        {
            Console.WriteLine($"geo-sim {options.ToCommandLine()}");
            Console.WriteLine($"leader region at the end: {result.LeaderRegion ?? "none"}; {result.VirtualSeconds:F1} virtual seconds");
            report.WriteText(Console.Out);
        }
        foreach (var violation in result.DescribeViolations().Take(20))
        {
            Console.Error.WriteLine($"violation: {violation}");
        }
        return result.Violations == 0 ? 0 : 1;
    }

    private static int Sweep(SimOptions options, Topology topology, int seeds)
    {
        var summary = SeedSweep.Run(options, topology, seeds, Console.Out);
        Console.WriteLine(summary.Describe());
        return summary.FailingSeeds.Count == 0 ? 0 : 1;
    }
}
