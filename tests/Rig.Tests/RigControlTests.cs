using CurpStore.GeoSim;

namespace CurpStore.Rig.Tests;

/// <summary>The rig's control socket and clean-up, on a run without members (namespaces and proxies only). Needs root
/// and netns like <see cref="RigProcessTests"/>.</summary>
[TestClass]
public sealed class RigControlTests
{
    private static Task<RigRun> StartNetworkOnlyAsync() => RigRun.StartAsync(new RigOptions
    {
        Topology = TopologyLoader.Load(Path.Combine(AppContext.BaseDirectory, "topologies", "three-regions.json")),
        System = "none",
        StateDirectory = Path.Combine(Path.GetTempPath(), "curpstore-rig-tests"),
        DeleteRunDirectoryOnDispose = true,
    });

    private static string[] NamespacesOf(string runName) =>
        [.. HostCommand.Run("ip", ["netns", "list"]).Split('\n').Where(line => line.StartsWith(runName + "-", StringComparison.Ordinal))];

    [TestMethod]
    public async Task ControlCommandsCutAndHealLinks_AndUnknownOnesAreErrors()
    {
        await using var rig = await StartNetworkOnlyAsync();
        var socketPath = Path.Combine(rig.RunDirectory, "control.sock");
        await using var control = new RigControl(rig, socketPath);

        Assert.AreEqual("cut m1 -> m2\n", await RigControl.SendAsync(socketPath, "cut m1 m2"));
        StringAssert.Contains(await RigControl.SendAsync(socketPath, "status"), "15 links, 1 cut");
        Assert.IsTrue(rig.Links.Where(l => l.From.Name == "m1" && l.To.Name == "m2").All(l => l.Proxy.ForwardCut));
        Assert.IsTrue(rig.Links.Where(l => l.From.Name == "m2" && l.To.Name == "m1").All(l => l.Proxy.BackwardCut && !l.Proxy.ForwardCut));

        await RigControl.SendAsync(socketPath, "cut-region ap-south");
        // m1->m2 and the 8 links between ap-south (m3, its clients) and the other regions; client-ap-south->m3 stays open.
        StringAssert.Contains(await RigControl.SendAsync(socketPath, "status"), "15 links, 9 cut");
        Assert.IsFalse(rig.Links.Where(l => l.From.Name == "client-ap-south" && l.To.Name == "m3").Any(l => l.Proxy.ForwardCut || l.Proxy.BackwardCut));
        await RigControl.SendAsync(socketPath, "heal-all");
        StringAssert.Contains(await RigControl.SendAsync(socketPath, "status"), "15 links, 0 cut");

        StringAssert.StartsWith(await RigControl.SendAsync(socketPath, "cut m1 nowhere"), "error: no node \"nowhere\"");
        StringAssert.StartsWith(await RigControl.SendAsync(socketPath, "rtt 0"), "error: samples must be 1 to");
        StringAssert.StartsWith(await RigControl.SendAsync(socketPath, "partition everything"), "error: unknown command");
        Assert.IsFalse(control.DownRequested.Task.IsCompleted);
        Assert.AreEqual("stopping the rig\n", await RigControl.SendAsync(socketPath, "down"));
        Assert.IsTrue(control.DownRequested.Task.IsCompleted);
    }

    [TestMethod]
    public async Task RemovingARunByItsNameLeavesNoNamespaceOrInterface_AndDisposingAfterwardsStillWorks()
    {
        var rig = await StartNetworkOnlyAsync();
        var runName = rig.Plan.RunName;
        Assert.AreEqual(6, NamespacesOf(runName).Length, "3 members and 3 client regions");

        HostNetwork.Remove(runName); // what `down` does after the rig process crashed

        Assert.AreEqual(0, NamespacesOf(runName).Length);
        Assert.IsFalse(HostCommand.Run("ip", ["-o", "link", "show"]).Contains(runName, StringComparison.Ordinal));
        await rig.DisposeAsync();
        await rig.DisposeAsync();
    }
}
