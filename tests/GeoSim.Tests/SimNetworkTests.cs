namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class SimNetworkTests
{
    private const ulong East = 1;
    private const ulong East2 = 2;
    private const ulong West = 3;
    private const ulong South = 4;

    /// <summary>A network over the three-region file with three endpoints, each recording (time, message).</summary>
    private sealed class Harness
    {
        public Harness(ulong seed = 1, double jitterFactor = 0)
        {
            Scheduler = new EventScheduler();
            Network = new SimNetwork<string>(Scheduler, TestTopologies.ThreeRegions(), new SimRandom(seed), m => m)
            {
                JitterFactor = jitterFactor,
            };
            Add(East, "us-east");
            Add(East2, "us-east");
            Add(West, "eu-west");
            Add(South, "ap-south");
        }

        public EventScheduler Scheduler { get; }

        public SimNetwork<string> Network { get; }

        public Dictionary<ulong, List<(long AtMicros, string Message)>> Received { get; } = [];

        public List<string> At(ulong id) => Received[id].Select(r => r.Message).ToList();

        private void Add(ulong id, string region)
        {
            Received[id] = [];
            Network.Register(id, region, m => Received[id].Add((Scheduler.Now, m)));
        }
    }

    [TestMethod]
    public void DelayEqualsOneWayLatencyWithoutJitter()
    {
        var h = new Harness();
        h.Network.Send(East, West, "e->w");
        h.Network.Send(East, South, "e->s");
        h.Network.Send(West, South, "w->s");
        h.Network.Send(East, East2, "e->e2");
        h.Scheduler.RunUntil(1_000_000);

        Assert.AreEqual(40_000L, h.Received[West].Single().AtMicros);
        Assert.AreEqual(110_000L, h.Received[South].Single(r => r.Message == "e->s").AtMicros);
        Assert.AreEqual(70_000L, h.Received[South].Single(r => r.Message == "w->s").AtMicros);
        Assert.AreEqual(500L, h.Received[East2].Single().AtMicros, "same region uses intra_region_one_way_ms");
        Assert.AreEqual(4L, h.Network.Sent);
        Assert.AreEqual(4L, h.Network.Delivered);
        Assert.AreEqual(0L, h.Network.Dropped);
        Assert.AreEqual(0L, h.Network.InFlight);
    }

    [TestMethod]
    public void JitterOnlyAddsToTheMinimum()
    {
        var h = new Harness(jitterFactor: 5);
        for (int i = 0; i < 200; i++)
        {
            h.Network.Send(East, West, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        h.Scheduler.RunUntil(10_000_000);
        Assert.AreEqual(200, h.Received[West].Count);
        Assert.IsTrue(h.Received[West].All(r => r.AtMicros >= 40_000));
        Assert.IsTrue(h.Received[West].Any(r => r.AtMicros > 40_000), "jitter factor 5 must add some delay");
    }

    [TestMethod]
    public void LinksStayFifoWhenReorderingIsOff()
    {
        List<string> sent = SendSpacedBurst(new Harness(seed: 3, jitterFactor: 20), reordering: false, out var h);
        CollectionAssert.AreEqual(sent, h.At(West));
    }

    [TestMethod]
    public void JitterReordersWhenReorderingIsOn()
    {
        // The counterpart of the FIFO test: with the same jitter the burst does get reordered, so the
        // FIFO test really exercises the per-link clamp.
        List<string> sent = SendSpacedBurst(new Harness(seed: 3, jitterFactor: 20), reordering: true, out var h);
        CollectionAssert.AreEquivalent(sent, h.At(West));
        CollectionAssert.AreNotEqual(sent, h.At(West));
    }

    [TestMethod]
    public void LossOfOneDropsEverything()
    {
        var h = new Harness();
        h.Network.LossProbability = 1.0;
        for (int i = 0; i < 100; i++)
        {
            h.Network.Send(East, West, "m");
        }

        h.Scheduler.RunUntil(1_000_000);
        Assert.AreEqual(0, h.Received[West].Count);
        Assert.AreEqual(100L, h.Network.Sent);
        Assert.AreEqual(100L, h.Network.DroppedBy(DropReason.Lost));
        Assert.AreEqual(100L, h.Network.Dropped);
        Assert.AreEqual(0L, h.Network.Delivered);
    }

    [TestMethod]
    public void DuplicationDeliversTwice()
    {
        var h = new Harness();
        h.Network.DuplicationProbability = 1.0;
        h.Network.Send(East, West, "once");
        h.Scheduler.RunUntil(1_000_000);

        CollectionAssert.AreEqual(new[] { "once", "once" }, h.At(West));
        Assert.AreEqual(1L, h.Network.Sent);
        Assert.AreEqual(2L, h.Network.Delivered);
        Assert.AreEqual(1L, h.Network.Duplicated);
    }

    [TestMethod]
    public void OneWayBlockDropsOnlyThatDirection()
    {
        var h = new Harness();
        h.Network.Block(East, West);
        h.Network.Send(East, West, "blocked");
        h.Network.Send(West, East, "open");
        h.Network.Send(East, South, "other link");
        h.Scheduler.RunUntil(1_000_000);

        Assert.AreEqual(0, h.Received[West].Count);
        CollectionAssert.AreEqual(new[] { "open" }, h.At(East));
        CollectionAssert.AreEqual(new[] { "other link" }, h.At(South));
        Assert.AreEqual(1L, h.Network.DroppedBy(DropReason.Blocked));
        Assert.IsTrue(h.Network.IsBlocked(East, West));
        Assert.IsFalse(h.Network.IsBlocked(West, East));
    }

    [TestMethod]
    public void PartitionIsSymmetricAndHealAllRestores()
    {
        var h = new Harness();
        h.Network.Partition([East, East2], [West]);
        h.Network.Send(East, West, "x");
        h.Network.Send(West, East2, "y");
        h.Network.Send(East, East2, "same side");
        h.Scheduler.RunUntil(1_000_000);
        Assert.AreEqual(0, h.Received[West].Count);
        CollectionAssert.AreEqual(new[] { "same side" }, h.At(East2));
        Assert.AreEqual(2L, h.Network.DroppedBy(DropReason.Blocked));

        h.Network.HealAll();
        h.Network.Send(East, West, "after heal");
        h.Scheduler.RunUntil(2_000_000);
        CollectionAssert.AreEqual(new[] { "after heal" }, h.At(West));
    }

    [TestMethod]
    public void PartitionCutsMessagesAlreadyInFlight()
    {
        var h = new Harness();
        h.Network.Send(East, West, "in flight");
        h.Scheduler.RunUntil(10_000);
        h.Network.Partition([East], [West]);
        h.Scheduler.RunUntil(1_000_000);

        Assert.AreEqual(0, h.Received[West].Count);
        Assert.AreEqual(1L, h.Network.DroppedBy(DropReason.BlockedInFlight));
    }

    [TestMethod]
    public void DownEndpointDropsMessagesInFlight()
    {
        var h = new Harness();
        h.Network.Send(East, West, "to crashing receiver");
        h.Network.Send(South, East, "from crashing sender");
        h.Scheduler.RunUntil(10_000);
        h.Network.SetDown(West, true);
        h.Network.SetDown(South, true);
        h.Scheduler.RunUntil(1_000_000);

        Assert.AreEqual(0, h.Received[West].Count);
        Assert.AreEqual(0, h.Received[East].Count);
        Assert.AreEqual(2L, h.Network.DroppedBy(DropReason.DownInFlight));

        // While down it neither receives nor sends.
        h.Network.Send(East, West, "to down");
        h.Network.Send(West, East, "from down");
        Assert.AreEqual(1L, h.Network.DroppedBy(DropReason.ReceiverDown));
        Assert.AreEqual(1L, h.Network.DroppedBy(DropReason.SenderDown));
    }

    [TestMethod]
    public void RestartBeforeArrivalStillDropsTheOldIncarnationsTraffic()
    {
        var h = new Harness();
        h.Network.Send(East, West, "before crash");
        h.Scheduler.RunUntil(10_000);
        h.Network.SetDown(West, true);
        h.Scheduler.RunUntil(20_000);
        h.Network.SetDown(West, false);
        h.Network.Send(East, West, "after restart");
        h.Scheduler.RunUntil(1_000_000);

        CollectionAssert.AreEqual(new[] { "after restart" }, h.At(West));
        Assert.AreEqual(1L, h.Network.DroppedBy(DropReason.DownInFlight));
    }

    [TestMethod]
    public void TraceHashIsReproducibleAndSeedDependent()
    {
        string first = RunScenario(seed: 17);
        string again = RunScenario(seed: 17);
        string other = RunScenario(seed: 18);

        Assert.AreEqual(first, again);
        Assert.AreNotEqual(first, other);
    }

    [TestMethod]
    public void MisuseIsRejected()
    {
        var h = new Harness();
        Assert.ThrowsExactly<ArgumentException>(() => h.Network.Register(East, "us-east", _ => { }));
        Assert.ThrowsExactly<ArgumentException>(() => h.Network.Register(99, "mars", _ => { }));
        Assert.ThrowsExactly<ArgumentException>(() => h.Network.Send(East, 99, "nobody"));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => h.Network.LossProbability = 1.5);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => h.Network.JitterFactor = -1);
    }

    /// <summary>200 messages East→West, one every 100 µs, against jitter with a 20 ms mean.</summary>
    private static List<string> SendSpacedBurst(Harness harness, bool reordering, out Harness h)
    {
        h = harness;
        h.Network.ReorderingEnabled = reordering;
        var sent = new List<string>();
        var network = h.Network;
        for (int i = 0; i < 200; i++)
        {
            string message = $"m{i}";
            sent.Add(message);
            h.Scheduler.Schedule(i * 100L, () => network.Send(East, West, message));
        }

        h.Scheduler.RunUntil(10_000_000);
        Assert.AreEqual(200, h.Received[West].Count);
        return sent;
    }

    private static string RunScenario(ulong seed)
    {
        var h = new Harness(seed, jitterFactor: 1);
        h.Network.LossProbability = 0.1;
        h.Network.DuplicationProbability = 0.1;
        h.Network.ReorderingEnabled = true;
        ulong[] ids = [East, East2, West, South];
        var pick = new SimRandom(seed).Fork(1);
        for (int i = 0; i < 500; i++)
        {
            ulong from = ids[pick.Next(ids.Length)];
            ulong to = ids[pick.Next(ids.Length)];
            string message = $"msg{i}";
            h.Scheduler.Schedule(i * 250L, () => h.Network.Send(from, to, message));
        }

        h.Scheduler.RunUntil(10_000_000);
        Assert.IsGreaterThan(0L, h.Network.Delivered);
        return h.Network.Trace.ToHex();
    }
}
