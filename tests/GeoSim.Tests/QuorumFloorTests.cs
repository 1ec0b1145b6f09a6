namespace CurpStore.GeoSim.Tests;

/// <summary>
/// Hand-computed floors. One-way delays (ms), three regions: us-east–eu-west 40, eu-west–ap-south 70,
/// us-east–ap-south 110, same region 0.5. Five regions add us-west (us-east 35, eu-west 70, ap-south 110,
/// ap-northeast 55) and ap-northeast (us-east 80, eu-west 110, ap-south 65).
/// </summary>
[TestClass]
public sealed class QuorumFloorTests
{
    [TestMethod]
    public void QuorumSizes()
    {
        Assert.AreEqual((1, 2, 3), (QuorumFloor.FaultTolerance(3), QuorumFloor.Quorum(3), QuorumFloor.SuperQuorum(3)));
        Assert.AreEqual((2, 3, 4), (QuorumFloor.FaultTolerance(5), QuorumFloor.Quorum(5), QuorumFloor.SuperQuorum(5)));
        Assert.AreEqual((3, 4, 6), (QuorumFloor.FaultTolerance(7), QuorumFloor.Quorum(7), QuorumFloor.SuperQuorum(7)));
        Assert.AreEqual(1, QuorumFloor.SuperQuorum(1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuorumFloor.Quorum(4));
    }

    // n=3, leader us-east, members us-east, eu-west, ap-south: q=2, sq=3.
    // Leader's nearest follower: eu-west, RTT 80.
    [TestMethod]
    // us-east client: fast = max(1, 2nd nearest other member: ap-south RTT 220) = 220; slow = 1 + 80 = 81;
    // notice = 0.5 + min(eu-west 40+40, ap-south 110+110) = 80.5.
    [DataRow("us-east", 220.0, 81.0, 81.0, 80.5)]
    // eu-west client: fast = max(80, others {eu-west 1, ap-south 140} 2nd = 140) = 140; slow = 80 + 80 = 160;
    // notice = 40 + min(eu-west 40+0.5, ap-south 110+70) = 80.5.
    [DataRow("eu-west", 140.0, 160.0, 140.0, 80.5)]
    // ap-south client: fast = max(220, others {eu-west 140, ap-south 1} 2nd = 140) = 220; slow = 220 + 80 = 300;
    // notice = 110 + min(eu-west 40+70, ap-south 110+0.5) = 220.
    [DataRow("ap-south", 220.0, 300.0, 220.0, 220.0)]
    public void ThreeRegionsThreeNodes(string client, double fast, double slow, double floor, double notice)
    {
        QuorumFloorResult result = QuorumFloor.Compute(TestTopologies.ThreeRegions(), 3, client);
        Assert.AreEqual(new QuorumFloorResult(fast, slow, floor, notice), result);
    }

    // n=5, one member per region, leader us-east: q=3, sq=4.
    // Leader to followers one-way: us-west 35, eu-west 40, ap-northeast 80, ap-south 110 -> 2nd nearest RTT 80.
    [TestMethod]
    // us-east: others RTT {us-west 70, eu-west 80, ap-ne 160, ap-south 220}, 3rd = 160; fast = max(1,160);
    // slow = 1 + 80; notice = 0.5 + 2nd of {70, 80, 160, 220} = 80.5.
    [DataRow("us-east", 160.0, 81.0, 81.0, 80.5)]
    // eu-west: others {eu-west 1, us-west 140, ap-south 140, ap-ne 220}, 3rd = 140; fast = max(80,140);
    // slow = 80 + 80; notice = 40 + 2nd of {eu-west 40.5, us-west 105, ap-south 180, ap-ne 190} = 145.
    [DataRow("eu-west", 140.0, 160.0, 140.0, 145.0)]
    // ap-south: others {ap-south 1, ap-ne 130, eu-west 140, us-west 220}, 3rd = 140; fast = max(220,140);
    // slow = 220 + 80; notice = 110 + 2nd of {eu-west 110, ap-south 110.5, us-west 145, ap-ne 145} = 220.5.
    [DataRow("ap-south", 220.0, 300.0, 220.0, 220.5)]
    // us-west: others {us-west 1, ap-ne 110, eu-west 140, ap-south 220}, 3rd = 140; fast = max(70,140);
    // slow = 70 + 80; notice = 35 + 2nd of {us-west 35.5, eu-west 110, ap-ne 135, ap-south 220} = 145.
    [DataRow("us-west", 140.0, 150.0, 140.0, 145.0)]
    // ap-northeast: others {ap-ne 1, us-west 110, ap-south 130, eu-west 220}, 3rd = 130; fast = max(160,130);
    // slow = 160 + 80; notice = 80 + 2nd of {ap-ne 80.5, us-west 90, eu-west 150, ap-south 175} = 170.
    [DataRow("ap-northeast", 160.0, 240.0, 160.0, 170.0)]
    public void FiveRegionsFiveNodes(string client, double fast, double slow, double floor, double notice)
    {
        QuorumFloorResult result = QuorumFloor.Compute(TestTopologies.FiveRegions(), 5, client);
        Assert.AreEqual(new QuorumFloorResult(fast, slow, floor, notice), result);
    }

    [TestMethod]
    public void ExplicitLeaderAndPlacement()
    {
        // Leader in eu-west instead: for a us-east client, slow = 80 + RTT(eu-west, nearest follower us-east) 80 = 160,
        // fast = max(80, 2nd nearest of {us-east 1, ap-south 220}) = 220, notice = 40 + min(40+0.5, 70+110) = 80.5.
        var result = QuorumFloor.Compute(
            TestTopologies.ThreeRegions(), 3, "us-east", "eu-west", ["us-east", "eu-west", "ap-south"]);
        Assert.AreEqual(new QuorumFloorResult(220, 160, 160, 80.5), result);
    }

    [TestMethod]
    public void RejectsInconsistentInput()
    {
        Topology t = TestTopologies.ThreeRegions();
        Assert.ThrowsExactly<ArgumentException>(() => QuorumFloor.Compute(t, 3, "us-east", "us-east", ["eu-west", "eu-west", "ap-south"]));
        Assert.ThrowsExactly<ArgumentException>(() => QuorumFloor.Compute(t, 3, "us-east", "us-east", ["us-east", "eu-west"]));
        Assert.ThrowsExactly<TopologyException>(() => QuorumFloor.Compute(t, 9, "us-east"));
    }
}
