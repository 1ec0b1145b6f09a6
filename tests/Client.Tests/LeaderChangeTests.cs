using System.Collections.Concurrent;

namespace CurpStore.Client.Tests;

[TestClass]
public sealed class LeaderChangeTests
{
    private const int Writers = 4;
    private const int WritesPerWriter = 150;

    [TestMethod]
    public async Task LeaderStopped_WhileWritesGoOn_TheClientFollowsTheNewLeader_AndEveryAcknowledgedWriteIsReadable()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var client = await CurpClient.ConnectAsync(cluster.Endpoints, new CurpClientOptions { DefaultTimeout = TimeSpan.FromSeconds(30) });
        var oldLeader = await cluster.WaitForLeaderAsync();
        var oldLeaderId = cluster.Members[oldLeader]!.MemberId;
        var acknowledged = new ConcurrentDictionary<string, PutResult>();
        var failures = new ConcurrentQueue<Exception>();
        var leaderStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var writers = Enumerable.Range(0, Writers).Select(async writer =>
        {
            for (var i = 0; i < WritesPerWriter; i++)
            {
                var key = $"lc/{writer}/{i}";
                try
                {
                    acknowledged[key] = await client.PutAsync(key, $"value {i}");
                }
                catch (EtcdException e)
                {
                    failures.Enqueue(e); // outcome unknown: not counted as acknowledged
                }
                if (writer == 0 && i == WritesPerWriter / 3)
                {
                    await cluster.StopMemberAsync(oldLeader); // the others keep writing meanwhile
                    leaderStopped.SetResult();
                }
            }
        }).ToList();
        await Task.WhenAll(writers);
        await leaderStopped.Task;

        var newLeader = await cluster.WaitForLeaderAsync();
        Assert.AreNotEqual(oldLeader, newLeader);
        Assert.AreEqual(cluster.Members[newLeader]!.MemberId, client.LeaderId, "the client's proposer follows the new leader");
        Assert.AreNotEqual(oldLeaderId, client.LeaderId);
        // The proposer retries with the same id until the new leader answers, so no write needs to fail.
        Assert.AreEqual(0, failures.Count, string.Join("; ", failures.Select(f => f.Message)));
        Assert.AreEqual(Writers * WritesPerWriter, acknowledged.Count);
        var stored = (await client.GetAsync("lc/", new GetOptions { Prefix = true })).Kvs.ToDictionary(kv => kv.KeyString);
        foreach (var (key, put) in acknowledged)
        {
            Assert.IsTrue(stored.TryGetValue(key, out var kv), $"acknowledged {key} is missing");
            Assert.AreEqual(1, kv.Version, $"{key} applied more than once");
            Assert.AreEqual($"value {key[(key.LastIndexOf('/') + 1)..]}", kv.ValueString);
        }
        var afterwards = await client.PutAsync("lc/after", "x");
        Assert.AreNotEqual(CommitPath.Fast, afterwards.CommitPath, "with a member down the super-quorum (all 3) cannot answer");
    }
}
