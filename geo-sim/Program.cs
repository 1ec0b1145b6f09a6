namespace CurpStore.GeoSim;

/// <summary>Entry point of the simulator.</summary>
/// <remarks>
/// For now it only parses and echoes the options: the cluster runner (real protocol core, clients,
/// faults, checkers) is wired in separately, and this file will be replaced then.
/// </remarks>
internal static class Program
{
    /// <summary>Exit code for a bad command line, distinct from a failed run.</summary>
    private const int UsageExitCode = 2;

    public static int Main(string[] args)
    {
        SimOptions options;
        try
        {
            options = SimOptionsParser.Parse(args);
        }
        catch (SimOptionsException e)
        {
            Console.Error.WriteLine($"geo-sim: {e.Message}");
            Console.Error.WriteLine(SimOptionsParser.Usage);
            return UsageExitCode;
        }

        if (options.Help)
        {
            Console.WriteLine(SimOptionsParser.Usage);
            return 0;
        }

        Console.WriteLine($"geo-sim {options.ToCommandLine()}");
        Console.WriteLine($"topology file: {TopologyLoader.ResolvePath(options.TopologyPath)}");
        Console.WriteLine("the cluster runner is wired in separately; nothing is simulated yet");
        return 0;
    }
}
