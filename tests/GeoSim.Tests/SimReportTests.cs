using System.Text.Json;

namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class SimReportTests
{
    [TestMethod]
    public void JsonHasTheFieldsScriptsRelyOn()
    {
        using JsonDocument doc = JsonDocument.Parse(Sample().ToJson());
        JsonElement root = doc.RootElement;
        Assert.AreEqual("00000000deadbeef", root.GetProperty("trace_hash").GetString());
        Assert.AreEqual(0.75, root.GetProperty("fast_path_ratio").GetDouble());
        Assert.AreEqual(0, root.GetProperty("violations").GetInt32());
        Assert.AreEqual(42UL, root.GetProperty("seed").GetUInt64());
        Assert.AreEqual("curp", root.GetProperty("mode").GetString());
        Assert.AreEqual(3, root.GetProperty("nodes").GetInt32());
        Assert.AreEqual(123L, root.GetProperty("checks").GetProperty("ops_checked").GetInt64());

        JsonElement[] regions = [.. root.GetProperty("regions").EnumerateArray()];
        Assert.AreEqual(2, regions.Length);
        JsonElement east = regions[0];
        Assert.AreEqual("us-east", east.GetProperty("region").GetString());
        Assert.AreEqual(4, east.GetProperty("count").GetInt32());
        // Sorted samples 81, 81.0004, 82, 161.5: nearest-rank p50 is 81.0004, written at microsecond resolution.
        Assert.AreEqual(81.0, east.GetProperty("p50_ms").GetDouble());
        Assert.AreEqual(161.5, east.GetProperty("p99_ms").GetDouble());
        Assert.AreEqual(81.0, east.GetProperty("fast_p50_ms").GetDouble());
        Assert.AreEqual(161.5, east.GetProperty("slow_p50_ms").GetDouble());
        Assert.AreEqual(0.75, east.GetProperty("fast_path_ratio").GetDouble());
        Assert.AreEqual(81.0, east.GetProperty("floor_ms").GetDouble());

        JsonElement empty = regions[1];
        Assert.AreEqual(JsonValueKind.Null, empty.GetProperty("p50_ms").ValueKind, "no samples is null, not 0 or NaN");
    }

    [TestMethod]
    public void TextTableIsAligned()
    {
        var writer = new StringWriter();
        Sample().WriteText(writer);
        string[] lines = writer.ToString().Split(Environment.NewLine);

        Assert.Contains("seed 42", lines[0]);
        Assert.Contains("trace 00000000deadbeef", lines[0]);
        string[] table = lines[1..4];
        Assert.StartsWith("region", table[0]);
        Assert.IsTrue(table.All(l => l.Length == table[0].Length), string.Join("\n", table));
        Assert.Contains("161.5", table[1]);
        Assert.Contains("75.0%", table[1]);
        Assert.Contains(" - ", table[2]);
        Assert.Contains("ops_checked", writer.ToString());
    }

    private static SimReport Sample()
    {
        var fast = new LatencySamples();
        fast.Add(81);
        fast.Add(82);
        fast.Add(81.0004);
        var slow = new LatencySamples();
        slow.Add(161.5);

        var report = new SimReport
        {
            TraceHash = "00000000deadbeef",
            FastPathRatio = 0.75,
            Violations = 0,
            Seed = 42,
            Mode = ProtocolMode.Curp,
            Nodes = 3,
        };
        report.Regions.Add(RegionReport.From("us-east", fast, slow, 81));
        report.Regions.Add(RegionReport.From("ap-northeast", new LatencySamples(), new LatencySamples(), 160));
        report.Checks["ops_checked"] = 123;
        return report;
    }
}
