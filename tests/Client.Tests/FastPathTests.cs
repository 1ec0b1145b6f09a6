namespace CurpStore.Client.Tests;

/// <summary>The fast path measured through the network: the client's proposer talks to three real members over
/// <c>Curp/Connect</c>, and every write reports how it was decided.</summary>
[TestClass]
public sealed class FastPathTests
{
    private const int Writes = 600;
    /// <summary>One-way delay of every link (client to member, member to member). On bare loopback all three paths
    /// cost about the same and scheduling noise on a shared 2-core machine decides which answer lands first; with
    /// wide-area-like links the fast path (client, members, client: two legs) beats commit notices (client, leader,
    /// follower, client: three legs) by a whole leg, as it does between data centers. 20 ms rather than 10: a member
    /// stalled by a loaded machine for more than one leg lets the commit notice win (10 ms gave 524 of 600 once in CI
    /// while other jobs built). 40 ms rather than 20: members, proxy and client share this process, so a pause longer
    /// than a leg (a GC, the thread pool growing) holds the witnesses' answers until the commit notice is due too and
    /// either may land first; since the peer transport keeps many calls in flight the commit notice is never late on
    /// its own, and 20 ms gave 540 of 600 once in CI.</summary>
    private static readonly TimeSpan LinkDelay = TimeSpan.FromMilliseconds(40);

    private static ClusterWithClient setup = null!;

    private static CurpClient Client => setup.Client;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context) => setup = await ClusterWithClient.StartAsync(linkDelay: LinkDelay);

    [ClassCleanup]
    public static async Task StopAsync()
    {
        if (setup is not null)
        {
            await setup.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task DisjointKeys_AtLeast95PercentCompleteOnTheFastPath()
    {
        var results = await RunAsync(callers: 4, i => $"disjoint/{i}");
        var paths = Count(results);
        Console.WriteLine($"disjoint keys: {Describe(paths)}");
        // Not 100%: a member stalled for more than a leg (GC, fsync, a loaded CI machine) lets a commit notice win.
        Assert.IsTrue(paths[CommitPath.Fast] >= Writes * 95 / 100, Describe(paths));
        Assert.AreEqual(Writes, results.Select(r => r.Revision).Distinct().Count(), "every write took its own revision");
    }

    [TestMethod]
    public async Task OneHotKey_FromConcurrentCallers_IsOrderedOffTheFastPath_AndEveryWriteCounts()
    {
        var results = await RunAsync(callers: 8, _ => "hot/key");
        var paths = Count(results);
        Console.WriteLine($"one hot key: {Describe(paths)}");
        // A write on a key that another caller's write still holds in the witnesses' pools conflicts, so the leader
        // orders it: it completes by commit notice or slowly, never fast.
        Assert.IsTrue(paths[CommitPath.Fast] < Writes / 10, Describe(paths));
        var final = (await Client.GetAsync("hot/key")).Kvs.Single();
        Assert.AreEqual(Writes, final.Version, "every write was applied exactly once");
        Assert.AreEqual(results.Max(r => r.Revision), final.ModRevision);
    }

    private static async Task<List<PutResult>> RunAsync(int callers, Func<int, string> keyOf)
    {
        var results = new List<PutResult>[callers];
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            results[caller] = [];
            for (var i = caller; i < Writes; i += callers)
            {
                results[caller].Add(await Client.PutAsync(keyOf(i), $"value {i}"));
            }
        }));
        return [.. results.SelectMany(r => r)];
    }

    private static Dictionary<CommitPath, int> Count(List<PutResult> results) =>
        Enum.GetValues<CommitPath>().ToDictionary(path => path, path => results.Count(r => r.CommitPath == path));

    private static string Describe(Dictionary<CommitPath, int> paths) => string.Join(", ", paths.Select(p => $"{p.Key} {p.Value}"));
}
