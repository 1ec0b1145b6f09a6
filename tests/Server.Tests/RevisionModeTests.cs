using System.Collections.Concurrent;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests;

/// <summary>
/// The guarantees of the two revision modes (README, "How the fast path and revisions behave"), checked on three
/// in-process members with etcd's gRPC API: several clients write disjoint keys concurrently through different
/// members, with and without a leader being stopped. Both modes: answered revisions are unique and each is its key's
/// final mod_revision while the leader stays; values and CAS outcomes survive a leader change. Strict mode adds: a
/// linearizable read's header revision is at least that of every write completed before it, and acknowledged writes
/// keep their acknowledged revision across a leader change.
/// </summary>
[TestClass]
public sealed class RevisionModeTests
{
    private const int Clients = 3;

    private static CallOptions Options => new(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));

    [TestMethod]
    [DataRow(false, DisplayName = "default mode")]
    [DataRow(true, DisplayName = "strict mode")]
    public async Task ConcurrentPutsOnDisjointKeys_ThroughEveryMember_AnswerUniqueRevisions_EachItsKeysFinalModRevision(bool strict)
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { StrictRevisions = strict });
        var answered = new ConcurrentDictionary<string, long>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                var key = $"c{client}/k{i:D2}";
                answered[key] = await Kv.PutAsync(cluster.Channels[client % 3], key, $"v{i}");
            }
        })));
        Assert.AreEqual(Clients * 30, answered.Values.Distinct().Count(), "every put got its own revision");
        var final = await ModRevisionsAsync(cluster.Channels[0]);
        foreach (var (key, revision) in answered)
        {
            Assert.AreEqual(revision, final[key], $"{key}: answered revision is not its mod_revision");
        }
    }

    [TestMethod]
    public async Task StrictMode_ALinearizableReadsHeaderRevision_IsAtLeastEveryWriteCompletedBeforeIt()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { StrictRevisions = true });
        long completed = 0;
        var violations = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                var revision = await Kv.PutAsync(cluster.Channels[client % 3], $"c{client}/k{i:D2}", "v");
                Raise(ref completed, revision);
                // A read of another key through another member, started after every write counted in `before`.
                var before = Interlocked.Read(ref completed);
                var read = await cluster.Channels[(client + 1) % 3].UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8($"other/{client}") }, Options);
                if (read.Header.Revision < before)
                {
                    violations.Add($"read header {read.Header.Revision} < completed write {before}");
                }
            }
        })));
        Assert.IsEmpty(violations, string.Join('\n', violations));
    }

    [TestMethod]
    public async Task StrictMode_AcrossALeaderStop_AcknowledgedWritesKeepTheirAcknowledgedRevision()
    {
        await using var cluster = await InProcessMembers.StartAsync(3, o => o with { StrictRevisions = true });
        var (acknowledged, survivors) = await WriteAcrossLeaderStopAsync(cluster);
        Assert.AreEqual(acknowledged.Count, acknowledged.Values.Select(a => a.Revision).Distinct().Count(), "acknowledged revisions are unique");
        var final = await ModRevisionsAsync(cluster.Channels[survivors[0]]);
        foreach (var (key, (revision, _)) in acknowledged)
        {
            Assert.AreEqual(revision, final[key], $"{key}: acknowledged at revision {revision}");
        }
    }

    [TestMethod]
    public async Task DefaultMode_AcrossALeaderStop_AcknowledgedValuesAndCasOutcomesHold()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var casSucceededFrom = new ConcurrentBag<long>();
        var casUnknown = 0;
        var leader = await cluster.LeaderIndexAsync();
        var follower = (leader + 1) % 3;
        using var stop = new CancellationTokenSource();
        // A counter incremented by compare-and-swap through a member that survives: read, then put value+1 only if
        // the value is still what was read.
        var counter = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var read = await cluster.Channels[follower].UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("counter") }, Options);
                    var value = read.Kvs.Count == 0 ? 0 : long.Parse(read.Kvs[0].Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture);
                    var txn = new Pb.TxnRequest();
                    txn.Compare.Add(read.Kvs.Count == 0
                        ? new Pb.Compare { Key = ByteString.CopyFromUtf8("counter"), Target = Pb.Compare.Types.CompareTarget.Version, Result = Pb.Compare.Types.CompareResult.Equal, Version = 0 }
                        : new Pb.Compare { Key = ByteString.CopyFromUtf8("counter"), Target = Pb.Compare.Types.CompareTarget.Value, Result = Pb.Compare.Types.CompareResult.Equal, Value = read.Kvs[0].Value });
                    txn.Success.Add(new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = ByteString.CopyFromUtf8("counter"), Value = ByteString.CopyFromUtf8($"{value + 1}") } });
                    if ((await cluster.Channels[follower].UnaryAsync(KVMethods.Txn, txn, Options)).Succeeded)
                    {
                        casSucceededFrom.Add(value);
                    }
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref casUnknown); // the outcome of an unanswered CAS is unknown
                }
            }
        });
        var (acknowledged, survivors) = await WriteAcrossLeaderStopAsync(cluster, leader);
        await stop.CancelAsync();
        await counter;

        var channel = cluster.Channels[survivors[0]];
        foreach (var (key, (_, value)) in acknowledged)
        {
            var read = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8(key) }, Options);
            Assert.AreEqual(value, read.Kvs.Single().Value.ToStringUtf8(), $"{key}: acknowledged value");
        }
        Assert.IsGreaterThan(0, casSucceededFrom.Count);
        Assert.AreEqual(casSucceededFrom.Count, casSucceededFrom.Distinct().Count(), "two CAS succeeded from the same value");
        var counterRead = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("counter") }, Options);
        var final = long.Parse(counterRead.Kvs.Single().Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsInRange(casSucceededFrom.Count, casSucceededFrom.Count + casUnknown, final, "every acknowledged increment is kept, nothing else appears");
    }

    /// <summary>Writers on disjoint keys through the two members that survive, while the leader (by default the current
    /// one) is stopped halfway. Returns the acknowledged writes (key: revision and value; each key's last write) and the
    /// surviving members once a new leader answers.</summary>
    private static async Task<(Dictionary<string, (long Revision, string Value)> Acknowledged, int[] Survivors)> WriteAcrossLeaderStopAsync(InProcessMembers cluster, int? leaderIndex = null)
    {
        var leader = leaderIndex ?? await cluster.LeaderIndexAsync();
        int[] survivors = [.. Enumerable.Range(0, 3).Where(i => i != leader)];
        var acknowledged = new ConcurrentDictionary<string, (long Revision, string Value)>();
        var unknown = new ConcurrentDictionary<string, bool>();
        var written = 0;
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var key = $"w{writer}/k{i % 10}";
                var value = $"v{i}";
                try
                {
                    acknowledged[key] = (await Kv.PutAsync(cluster.Channels[survivors[writer % 2]], key, value), value);
                }
                catch (RpcException)
                {
                    // Unknown outcome: the write may still be applied, even after a later one on the key (a recovered
                    // fast-path write), so this key's final value is not known any more.
                    unknown[key] = true;
                }
                Interlocked.Increment(ref written);
            }
        })).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Volatile.Read(ref written) < 40)
        {
            Assert.IsLessThan(deadline, DateTime.UtcNow, "the writers did not get going");
            await Task.Delay(10);
        }
        await cluster.StopAsync(leader);
        await Task.WhenAll(writers);
        // A new leader answers a linearizable read on both survivors.
        foreach (var survivor in survivors)
        {
            await WaitForLeaderAsync(cluster.Channels[survivor]);
        }
        var known = acknowledged.Where(a => !unknown.ContainsKey(a.Key)).ToDictionary(a => a.Key, a => a.Value);
        Assert.IsGreaterThan(20, known.Count, $"most of the 40 keys must have a known last write ({unknown.Count} unknown)");
        return (known, survivors);
    }

    private static async Task WaitForLeaderAsync(GrpcChannel channel)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("barrier") }, Options);
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Every key's mod_revision, read linearizably.</summary>
    private static async Task<Dictionary<string, long>> ModRevisionsAsync(GrpcChannel channel)
    {
        var read = await channel.UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8("\0"), RangeEnd = ByteString.CopyFromUtf8("\0") }, Options);
        return read.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.ModRevision);
    }

    private static void Raise(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}
