namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class TopologyTests
{
    private const string Source = "test.json";

    private const string ValidLatencies =
        """
        [ { "a": "x", "b": "y", "one_way_ms": 10 },
          { "a": "y", "b": "z", "one_way_ms": 20 },
          { "a": "x", "b": "z", "one_way_ms": 30 } ]
        """;

    [TestMethod]
    public void ThreeRegionFileLoads()
    {
        Topology t = TestTopologies.ThreeRegions();
        CollectionAssert.AreEqual(new[] { "us-east", "eu-west", "ap-south" }, t.Regions.ToArray());
        Assert.AreEqual(40.0, t.OneWayMs("us-east", "eu-west"));
        Assert.AreEqual(40.0, t.OneWayMs("eu-west", "us-east"));
        Assert.AreEqual(70.0, t.OneWayMs("eu-west", "ap-south"));
        Assert.AreEqual(110.0, t.OneWayMs("ap-south", "us-east"));
        Assert.AreEqual(0.5, t.OneWayMs("ap-south", "ap-south"));
        Assert.AreEqual(1.0, t.JitterMeanMs);
        Assert.AreEqual("us-east", t.LeaderRegion);
        CollectionAssert.AreEqual(t.Regions.ToArray(), t.ClientRegions.ToArray(), "client_regions defaults to all");
        CollectionAssert.AreEqual(new[] { 3, 5, 7 }, t.Placements.Keys.ToArray());
        CollectionAssert.AreEqual(
            new[] { "us-east", "eu-west", "ap-south", "us-east", "eu-west", "ap-south", "us-east" },
            t.PlacementFor(7).ToArray());
    }

    [TestMethod]
    public void FiveRegionFileLoads()
    {
        Topology t = TestTopologies.FiveRegions();
        Assert.AreEqual(5, t.Regions.Count);
        Assert.AreEqual(35.0, t.OneWayMs("us-east", "us-west"));
        Assert.AreEqual(55.0, t.OneWayMs("ap-northeast", "us-west"));
        Assert.AreEqual(65.0, t.OneWayMs("ap-south", "ap-northeast"));
        Assert.AreEqual(110.0, t.OneWayMs("eu-west", "ap-northeast"));
        CollectionAssert.AreEqual(new[] { "us-east", "eu-west", "us-west" }, t.PlacementFor(3).ToArray());
        CollectionAssert.AreEquivalent(t.Regions.ToArray(), t.PlacementFor(5).ToArray());
        Assert.AreEqual(7, t.PlacementFor(7).Count);
    }

    [TestMethod]
    public void AsymmetricPairNamesTheField()
    {
        var error = ParseError(Json(latencies:
            """
            [ { "a": "x", "b": "y", "one_way_ms": 10 },
              { "a": "y", "b": "z", "one_way_ms": 20 },
              { "a": "x", "b": "z", "one_way_ms": 30 },
              { "a": "y", "b": "x", "one_way_ms": 12 } ]
            """));
        Assert.AreEqual("latencies[3].one_way_ms", error.Field);
        Assert.AreEqual(Source, error.TopologySource);
        Assert.Contains("asymmetric", error.Message);
        Assert.Contains("latencies[0]", error.Message);
        Assert.StartsWith("test.json: latencies[3].one_way_ms:", error.Message);
    }

    [TestMethod]
    public void RepeatingAPairWithTheSameDelayIsAccepted()
    {
        Topology t = TopologyLoader.Parse(Json(latencies:
            """
            [ { "a": "x", "b": "y", "one_way_ms": 10 },
              { "a": "y", "b": "x", "one_way_ms": 10 },
              { "a": "y", "b": "z", "one_way_ms": 20 },
              { "a": "x", "b": "z", "one_way_ms": 30 } ]
            """), Source);
        Assert.AreEqual(10.0, t.OneWayMs("y", "x"));
    }

    [TestMethod]
    public void MissingPairNamesTheFieldAndTheRegions()
    {
        var error = ParseError(Json(latencies:
            """
            [ { "a": "x", "b": "y", "one_way_ms": 10 },
              { "a": "y", "b": "z", "one_way_ms": 20 } ]
            """));
        Assert.AreEqual("latencies", error.Field);
        Assert.Contains("missing pair", error.Message);
        Assert.Contains("\"x\" and \"z\"", error.Message);
    }

    [TestMethod]
    public void UnknownRegionNamesTheField()
    {
        var error = ParseError(Json(latencies:
            """
            [ { "a": "x", "b": "y", "one_way_ms": 10 },
              { "a": "y", "b": "mars", "one_way_ms": 20 },
              { "a": "x", "b": "z", "one_way_ms": 30 } ]
            """));
        Assert.AreEqual("latencies[1].b", error.Field);
        Assert.Contains("\"mars\"", error.Message);

        Assert.AreEqual("leader_region", ParseError(Json(leader: "\"mars\"")).Field);
        Assert.AreEqual("placement[\"3\"][2]", ParseError(Json(placement: """{ "3": ["x", "y", "mars"] }""")).Field);
        Assert.AreEqual("client_regions[1]", ParseError(Json(extra: """, "client_regions": ["x", "mars"]""")).Field);
    }

    [TestMethod]
    public void NegativeLatencyNamesTheField()
    {
        var error = ParseError(Json(latencies:
            """
            [ { "a": "x", "b": "y", "one_way_ms": -10 },
              { "a": "y", "b": "z", "one_way_ms": 20 },
              { "a": "x", "b": "z", "one_way_ms": 30 } ]
            """));
        Assert.AreEqual("latencies[0].one_way_ms", error.Field);
        Assert.AreEqual("intra_region_one_way_ms", ParseError(Json(intra: "-0.5")).Field);
    }

    [TestMethod]
    public void MissingPlacementForTheRequestedSizeNamesFileAndField()
    {
        Topology t = TopologyLoader.Parse(Json(), Source);
        var error = Assert.ThrowsExactly<TopologyException>(() => t.PlacementFor(5));
        Assert.AreEqual("placement[\"5\"]", error.Field);
        Assert.Contains("test.json", error.Message);
        Assert.Contains("5-node", error.Message);

        var fromFile = Assert.ThrowsExactly<TopologyException>(() => TestTopologies.ThreeRegions().PlacementFor(9));
        Assert.Contains("three-regions.json", fromFile.Message);
    }

    [TestMethod]
    public void PlacementMustMatchItsSizeAndHoldTheLeader()
    {
        Assert.Contains("exactly 3", ParseError(Json(placement: """{ "3": ["x", "y"] }""")).Message);
        Assert.Contains("leader_region", ParseError(Json(placement: """{ "3": ["y", "y", "z"] }""")).Message);
        Assert.AreEqual("placement[\"three\"]", ParseError(Json(placement: """{ "three": ["x", "y", "z"] }""")).Field);
    }

    [TestMethod]
    public void MalformedFilesAreReportedWithTheirPath()
    {
        Assert.AreEqual("regions", ParseError("""{ "intra_region_one_way_ms": 1 }""").Field);
        Assert.AreEqual("intra_region_one_way_ms", ParseError(Json(intra: "null")).Field);
        Assert.Contains("regoins", ParseError(Json(extra: """, "regoins": []""")).Message);
        Assert.AreEqual("$.jitter_mean_ms", ParseError(Json(extra: """, "jitter_mean_ms": "fast" """)).Field);
        Assert.AreEqual("(file)", Assert.ThrowsExactly<TopologyException>(
            () => TopologyLoader.Load("/nonexistent/topology.json")).Field);
    }

    [TestMethod]
    public void ResolvePathFindsShippedFilesFromTheRepositoryRelativeDefault()
    {
        string resolved = TopologyLoader.ResolvePath(SimOptions.DefaultTopologyPath);
        Assert.IsTrue(File.Exists(resolved), resolved);
        Assert.AreEqual(3, TopologyLoader.Load(resolved).Regions.Count);
    }

    [TestMethod]
    public void OneWayMsRejectsUnknownRegion()
    {
        Topology t = TestTopologies.ThreeRegions();
        var error = Assert.ThrowsExactly<ArgumentException>(() => t.OneWayMs("us-east", "mars"));
        Assert.Contains("mars", error.Message);
    }

    private static TopologyException ParseError(string json) =>
        Assert.ThrowsExactly<TopologyException>(() => TopologyLoader.Parse(json, Source));

    private static string Json(
        string latencies = ValidLatencies,
        string intra = "0.5",
        string leader = "\"x\"",
        string placement = """{ "3": ["x", "y", "z"] }""",
        string extra = "") =>
        $$"""
        {
          "regions": ["x", "y", "z"],
          "intra_region_one_way_ms": {{intra}},
          "jitter_mean_ms": 1,
          "latencies": {{latencies}},
          "placement": {{placement}},
          "leader_region": {{leader}}{{extra}}
        }
        """;
}
