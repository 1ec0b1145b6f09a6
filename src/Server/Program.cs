using System.Collections;
using System.Runtime.InteropServices;
using CurpStore.Server;
using CurpStore.Server.Configuration;
using CurpStore.Server.Facade;

var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
ParsedCommandLine parsed;
try
{
    parsed = ServerOptionsParser.Parse(args, environment);
}
catch (ServerOptionsException e)
{
    Console.Error.WriteLine($"curpstore: {e.Message}");
    Console.Error.WriteLine(ServerOptionsParser.Usage);
    return 2;
}
if (parsed.PrintHelp)
{
    Console.WriteLine(ServerOptionsParser.Usage);
    return 0;
}
if (parsed.PrintVersion)
{
    Console.WriteLine($"CurpStore Version: {ServerProcess.Version}");
    Console.WriteLine($"etcd API Version: {MaintenanceService.EmulatedEtcdVersion}");
    Console.WriteLine($".NET Version: {Environment.Version}");
    Console.WriteLine($"OS/Arch: {RuntimeInformation.OSDescription}/{RuntimeInformation.ProcessArchitecture}");
    return 0;
}
var level = parsed.Options.LogLevel;
void Log(string line)
{
    if (level <= CurpStore.Server.Configuration.LogLevel.Info)
    {
        Console.Error.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");
    }
}
foreach (var warning in parsed.Warnings)
{
    Console.Error.WriteLine($"curpstore: warning: {warning}");
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
await using var server = new ServerProcess(parsed.Options, Log);
try
{
    await server.StartAsync();
}
catch (Exception e) when (e is IOException or InvalidDataException or CurpStore.Wal.WalException or UnauthorizedAccessException or ServerOptionsException)
{
    Console.Error.WriteLine($"curpstore: cannot start: {e.Message}");
    return 1;
}
if (await Task.WhenAny(stop.Task, server.Removed) == stop.Task)
{
    Log("received a stop signal: flushing and exiting");
    return 0;
}
// etcd exits once it knows it was removed: flush what can be flushed within a bound, then leave even if a listener
// waits on a call that never ends.
var stopping = server.StopAsync();
if (await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(10))) != stopping)
{
    Log("removed: stopping took longer than 10 s; exiting anyway");
}
Environment.Exit(0);
return 0;
