using CurpStore.Faults;

// The fault harness's command line: prints the seed and the schedule first, progress while it runs, the verdict at
// the end; exit code 0 only when every check passes (2 on a bad command line).
FaultOptions options;
try
{
    options = FaultOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(FaultOptions.Usage);
    return 2;
}
if (options.ScheduleOnly)
{
    var steps = NemesisSchedule.Draw(options.Seed, options.Members, FaultRun.FaultTimeMs(options));
    Console.Write($"seed {options.Seed}, {options.Members} members, {options.Seconds} s:\n{NemesisSchedule.Describe(steps)}");
    return 0;
}
var verdict = await FaultRun.RunAsync(options, Console.WriteLine);
Console.WriteLine(verdict.Describe());
return verdict.Passed ? 0 : 1;
