namespace CurpStore.GeoSim.Tests;

/// <summary>The shipped topology files, as copied next to the test assembly.</summary>
internal static class TestTopologies
{
    public static string PathOf(string fileName) => Path.Combine(AppContext.BaseDirectory, "topologies", fileName);

    public static Topology ThreeRegions() => TopologyLoader.Load(PathOf("three-regions.json"));

    public static Topology FiveRegions() => TopologyLoader.Load(PathOf("five-regions.json"));
}
