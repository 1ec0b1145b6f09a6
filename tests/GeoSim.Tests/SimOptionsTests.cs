namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class SimOptionsTests
{
    [TestMethod]
    public void Defaults()
    {
        SimOptions o = SimOptionsParser.Parse([]);
        Assert.AreEqual("geo-sim/topologies/three-regions.json", o.TopologyPath);
        Assert.AreEqual(3, o.Nodes);
        Assert.AreEqual(16, o.Clients);
        Assert.AreEqual(0.0, o.Conflict);
        Assert.AreEqual(30, o.Seconds);
        Assert.AreEqual(1UL, o.Seed);
        Assert.AreEqual(FaultMode.None, o.Faults);
        Assert.AreEqual(ProtocolMode.Curp, o.Mode);
        Assert.IsFalse(o.Json);
        Assert.IsNull(o.LeaderRegion);
        Assert.IsFalse(o.Strict);
        Assert.IsNull(o.Sweep);
        Assert.IsFalse(o.Help);
    }

    [TestMethod]
    public void EveryFlag()
    {
        SimOptions o = SimOptionsParser.Parse(
        [
            "--topology", "t.json", "--nodes", "7", "--clients", "64", "--conflict", "0.25", "--seconds", "5",
            "--seed", "18446744073709551615", "--faults", "partition", "--mode", "raft", "--json",
            "--leader-region", "eu-west", "--strict", "--sweep", "100",
        ]);
        var expected = new SimOptions
        {
            TopologyPath = "t.json",
            Nodes = 7,
            Clients = 64,
            Conflict = 0.25,
            Seconds = 5,
            Seed = ulong.MaxValue,
            Faults = FaultMode.Partition,
            Mode = ProtocolMode.Raft,
            Json = true,
            LeaderRegion = "eu-west",
            Strict = true,
            Sweep = 100,
        };
        Assert.AreEqual(expected, o);
    }

    [TestMethod]
    [DataRow("none", FaultMode.None)]
    [DataRow("crash", FaultMode.Crash)]
    [DataRow("partition", FaultMode.Partition)]
    [DataRow("all", FaultMode.All)]
    public void FaultModes(string value, FaultMode expected) =>
        Assert.AreEqual(expected, SimOptionsParser.Parse(["--faults", value]).Faults);

    [TestMethod]
    public void EqualsFormAndHelp()
    {
        SimOptions o = SimOptionsParser.Parse(["--nodes=5", "--conflict=1", "-h"]);
        Assert.AreEqual(5, o.Nodes);
        Assert.AreEqual(1.0, o.Conflict);
        Assert.IsTrue(o.Help);
    }

    [TestMethod]
    public void CommandLineRoundTrips()
    {
        SimOptions o = SimOptionsParser.Parse(
            ["--topology", "my topo.json", "--nodes", "5", "--conflict", "0.1", "--seed", "42", "--faults", "all", "--strict", "--sweep", "3", "--leader-region", "eu-west"]);
        string[] args = Split(o.ToCommandLine());
        Assert.AreEqual(o, SimOptionsParser.Parse(args));
    }

    [TestMethod]
    [DataRow("unknown flag --nodez", "--nodez", "3")]
    [DataRow("unexpected argument \"five\"", "five")]
    [DataRow("--nodes needs a value", "--nodes")]
    [DataRow("--nodes needs a value", "--nodes", "--json")]
    [DataRow("--nodes must be 3, 5 or 7, got 4", "--nodes", "4")]
    [DataRow("--nodes needs a whole number", "--nodes", "three")]
    [DataRow("--clients must be in 1..100000, got 0", "--clients", "0")]
    [DataRow("--conflict must be in 0..1, got 1.5", "--conflict", "1.5")]
    [DataRow("--conflict must be in 0..1, got -0.1", "--conflict", "-0.1")]
    [DataRow("--conflict needs a number", "--conflict", "NaN")]
    [DataRow("--seconds must be in 1..86400", "--seconds", "0")]
    [DataRow("--seed needs a whole number", "--seed", "-1")]
    [DataRow("--seed needs a whole number", "--seed", "18446744073709551616")]
    [DataRow("--faults must be none, crash, partition or all", "--faults", "flood")]
    [DataRow("--mode must be curp or raft", "--mode", "paxos")]
    [DataRow("--sweep must be in 1..1000000", "--sweep", "0")]
    [DataRow("--json takes no value", "--json=yes")]
    [DataRow("--seed is given twice", "--seed", "1", "--seed", "2")]
    [DataRow("--leader-region needs a non-empty value", "--leader-region=")]
    public void Errors(string expectedMessage, params string[] args)
    {
        var error = Assert.ThrowsExactly<SimOptionsException>(() => SimOptionsParser.Parse(args));
        Assert.Contains(expectedMessage, error.Message);
    }

    /// <summary>Splits a command line on spaces, honouring double quotes (enough for ToCommandLine's output).</summary>
    private static string[] Split(string line)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        bool any = false;
        foreach (char c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    parts.Add(current.ToString());
                }

                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }

        if (any)
        {
            parts.Add(current.ToString());
        }

        return [.. parts];
    }

    [TestMethod]
    public void MachineFlag_SelectsTheStateMachine_AndRefusesOthers()
    {
        Assert.AreEqual(MachineKind.Etcd, SimOptionsParser.Parse([]).Machine);
        Assert.AreEqual(MachineKind.Kv, SimOptionsParser.Parse(["--machine", "kv"]).Machine);
        var error = Assert.ThrowsExactly<SimOptionsException>(() => SimOptionsParser.Parse(["--machine", "redis"]));
        StringAssert.Contains(error.Message, "--machine must be etcd or kv");
    }
}
