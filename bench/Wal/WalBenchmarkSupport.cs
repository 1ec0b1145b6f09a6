using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CurpStore.Bench.Wal;

/// <summary>Adds a records-per-second column: the benchmarks run <see cref="WalBenchmarkSupport.RecordsPerInvocation"/>
/// appends per invocation with <c>OperationsPerInvoke</c>, so the mean is per record and this is its inverse.</summary>
public sealed class WalBenchmarkConfig : ManualConfig
{
    public WalBenchmarkConfig() => AddColumn(new RecordsPerSecondColumn());

    private sealed class RecordsPerSecondColumn : IColumn
    {
        public string Id => nameof(RecordsPerSecondColumn);
        public string ColumnName => "Records/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Durable appends per second (all appenders together)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
            summary[benchmarkCase]?.ResultStatistics?.Mean is { } nanosecondsPerRecord and > 0
                ? (1e9 / nanosecondsPerRecord).ToString("N0", CultureInfo.InvariantCulture)
                : "-";
    }
}

/// <summary>What the WAL benchmarks share: the workload (many appenders, each awaiting its own durable append before
/// the next, like request handlers) and a scratch directory.</summary>
public static class WalBenchmarkSupport
{
    /// <summary>Appends per benchmark invocation, split evenly over the appenders.</summary>
    public const int RecordsPerInvocation = 8192;

    /// <summary>Payload of every record (the 256-byte records).</summary>
    public const int PayloadBytes = 256;

    public static byte[] Payload()
    {
        var payload = new byte[PayloadBytes];
        new Random(1).NextBytes(payload);
        return payload;
    }

    public static string CreateScratchDirectory(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "curpstore-bench", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs <paramref name="appenders"/> concurrent loops that each await <paramref name="append"/>
    /// <see cref="RecordsPerInvocation"/> / <paramref name="appenders"/> times.</summary>
    public static Task RunAppenders(int appenders, Func<ValueTask> append)
    {
        var perAppender = RecordsPerInvocation / appenders;
        var loops = new Task[appenders];
        for (var i = 0; i < appenders; i++)
        {
            loops[i] = Task.Run(async () =>
            {
                for (var n = 0; n < perAppender; n++)
                {
                    await append();
                }
            });
        }
        return Task.WhenAll(loops);
    }
}
