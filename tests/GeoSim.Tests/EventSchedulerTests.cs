namespace CurpStore.GeoSim.Tests;

[TestClass]
public sealed class EventSchedulerTests
{
    [TestMethod]
    public void TiesRunInInsertionOrder()
    {
        var scheduler = new EventScheduler();
        var order = new List<int>();
        for (int i = 0; i < 50; i++)
        {
            int id = i;
            scheduler.Schedule(1_000, () => order.Add(id));
        }

        scheduler.Schedule(500, () => order.Add(-1));
        scheduler.RunUntil(2_000);

        CollectionAssert.AreEqual(new[] { -1 }.Concat(Enumerable.Range(0, 50)).ToArray(), order.ToArray());
    }

    [TestMethod]
    public void EventsScheduledForNowRunAfterThoseAlreadyQueued()
    {
        var scheduler = new EventScheduler();
        var order = new List<string>();
        scheduler.Schedule(10, () =>
        {
            order.Add("a");
            scheduler.ScheduleAfter(0, () => order.Add("c"));
        });
        scheduler.Schedule(10, () => order.Add("b"));
        scheduler.RunUntil(10);

        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, order);
    }

    [TestMethod]
    public void RunUntilAdvancesTimeAndLeavesLaterEvents()
    {
        var scheduler = new EventScheduler();
        long seenAt = -1;
        scheduler.Schedule(300, () => seenAt = scheduler.Now);
        scheduler.Schedule(900, () => { });

        Assert.AreEqual(1L, scheduler.RunUntil(500));
        Assert.AreEqual(300L, seenAt);
        Assert.AreEqual(500L, scheduler.Now);
        Assert.AreEqual(1, scheduler.Pending);
        Assert.AreEqual(900L, scheduler.NextEventTime);

        Assert.IsTrue(scheduler.RunNext());
        Assert.AreEqual(900L, scheduler.Now);
        Assert.IsFalse(scheduler.RunNext());
        Assert.AreEqual(2L, scheduler.Executed);
    }

    [TestMethod]
    public void SchedulingInThePastThrows()
    {
        var scheduler = new EventScheduler();
        scheduler.RunUntil(100);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scheduler.Schedule(99, () => { }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scheduler.ScheduleAfter(-1, () => { }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scheduler.RunUntil(50));
    }

    [TestMethod]
    public void ExceedingTheBoundThrowsAClearError()
    {
        var scheduler = new EventScheduler(maxQueuedEvents: 3);
        scheduler.Schedule(1, () => { });
        scheduler.Schedule(2, () => { });
        scheduler.Schedule(3, () => { });

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => scheduler.Schedule(4, () => { }));
        Assert.Contains("bound", error.Message);
        Assert.Contains("3", error.Message);

        // Draining makes room again: the bound is on queued events, not on events ever scheduled.
        scheduler.RunNext();
        scheduler.Schedule(4, () => { });
        Assert.AreEqual(3, scheduler.Pending);
    }
}
