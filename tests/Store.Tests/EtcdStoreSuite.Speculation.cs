using CurpStore.Curp;

namespace CurpStore.Store.Tests;

/// <summary>
/// Speculation: for any sequence of commands, the answer speculated for an index equals the answer applied at that
/// index, reads never see speculated effects, and discarding or departing from the speculated sequence leaves no trace.
/// </summary>
public abstract partial class EtcdStoreSuite
{
    private static readonly RangeRequest Everything = new() { Key = [0], RangeEnd = [0] };

    /// <summary>Everything a client could read from the applied state, as text.</summary>
    private static string ReadView(EtcdStateMachine machine)
    {
        var past = Math.Max(machine.CompactedRevision, machine.Revision - 2);
        return string.Join('\n', [
            $"rev={machine.Revision} compacted={machine.CompactedRevision} applied={machine.AppliedIndex} digest={machine.StateDigest()}",
            EtcdResultText.Render(machine.Read(Everything)),
            EtcdResultText.Render(machine.Read(Everything with { Revision = Math.Max(1, past) })),
            string.Join(',', machine.Leases(0).Leases.Select(l => $"{l.Id}:{l.GrantedTtlSeconds}")), // remaining TTLs are leader-local
            string.Join(';', machine.LastAppliedEvents.Select(StoreDriver.Text)),
        ]);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    [DataRow(5)]
    [DataRow(6)]
    [DataRow(7)]
    [DataRow(8)]
    public void SpeculatedAnswers_EqualAppliedAnswers_AndReadsWaitForApply(int block) =>
        ForEachSeed(block, 8, SpeculatedAnswersEqualAppliedAnswers);

    private void SpeculatedAnswersEqualAppliedAnswers(int seed)
    {
        var options = new EtcdStoreOptions { VerifySpeculation = true };
        var leader = NewStore(options);
        var follower = NewStore(options);
        var commands = new RandomCommands(seed);
        var random = new Random(seed * 7919);
        var pending = new Queue<(ulong Index, EtcdCommand Command, string Speculated)>();
        ulong nextIndex = 1;
        var window = random.Next(1, 12);
        for (var step = 0; step < 600 || pending.Count > 0; step++)
        {
            if (step < 600 && (pending.Count == 0 || (pending.Count < window && random.Next(3) != 0)))
            {
                var command = leader.Command(commands.Next(leader.Machine.SpeculativeRevision));
                var before = ReadView(leader.Machine);
                var speculated = EtcdResultText.Render(leader.Machine.Speculate(command, nextIndex));
                Assert.AreEqual(before, ReadView(leader.Machine), $"speculating {command} changed what reads see");
                pending.Enqueue((nextIndex++, command, speculated));
                continue;
            }
            if (random.Next(40) == 0)
            {
                // A new leader term: the overlay is dropped and the uncommitted tail re-speculated in log order.
                leader.Machine.DiscardSpeculation();
                Assert.AreEqual(leader.Machine.Revision, leader.Machine.SpeculativeRevision);
                foreach (var (index, command, speculated) in pending)
                {
                    Assert.AreEqual(speculated, EtcdResultText.Render(leader.Machine.Speculate(command, index)), $"re-speculating {command}");
                }
                window = random.Next(1, 12);
            }
            var (applyIndex, applyCommand, expected) = pending.Dequeue();
            Assert.AreEqual(expected, EtcdResultText.Render(leader.Machine.Apply(applyCommand, applyIndex)), $"applying {applyCommand} at {applyIndex}");
            Assert.AreEqual(expected, EtcdResultText.Render(follower.Machine.Apply(applyCommand, applyIndex)), $"follower applying {applyCommand}");
            CollectionAssert.AreEqual(
                follower.Machine.LastAppliedEvents.Select(StoreDriver.Text).ToList(),
                leader.Machine.LastAppliedEvents.Select(StoreDriver.Text).ToList(),
                $"events of {applyCommand}");
        }
        Assert.AreEqual(0, leader.Machine.SpeculationMismatches);
        Assert.AreEqual(0, leader.Machine.SpeculationRebuilds);
        Assert.AreEqual(0, leader.Machine.SpeculatedCount);
        Assert.AreEqual(follower.Machine.StateDigest(), leader.Machine.StateDigest());
        Assert.AreEqual(ReadView(follower.Machine), ReadView(leader.Machine));
        var history = leader.Machine.ReadEvents(Math.Max(1, leader.Machine.CompactedRevision), 10_000).Events;
        Assert.IsTrue(history.Count > 0);
        CollectionAssert.AreEqual(
            follower.Machine.ReadEvents(Math.Max(1, follower.Machine.CompactedRevision), 10_000).Events.Select(StoreDriver.Text).ToList(),
            history.Select(StoreDriver.Text).ToList());
    }

    [TestMethod]
    public void Speculation_ChainsRevisions_WithoutChangingReads()
    {
        var store = NewStore();
        store.Put("a", "1"); // index 1, revision 2
        var put = StoreDriver.As<PutResponse>(store.Machine.Speculate(store.Command(new PutRequest { Key = B("b"), Value = B("1") }), 2));
        var txn = StoreDriver.As<TxnResponse>(store.Machine.Speculate(store.Command(new TxnRequest
        {
            Compare = [new Compare { Key = B("b"), Target = CompareTarget.Version, Result = CompareResult.Equal, Version = 1 }],
            Success = [new DeleteRangeRequest { Key = B("a"), PrevKv = true }, new RangeRequest { Key = B("b") }],
        }), 3));
        Assert.AreEqual(3, put.Header.Revision);
        Assert.IsTrue(txn.Succeeded, "the speculated txn sees the speculated put");
        Assert.AreEqual(4, txn.Header.Revision);
        Assert.AreEqual(1, txn.Responses[1].ResponseRange!.Count);
        Assert.AreEqual((2L, 4L), (store.Machine.Revision, store.Machine.SpeculativeRevision));
        Assert.IsNull(store.GetKv("b"));
        Assert.IsNotNull(store.GetKv("a"));
    }

    [TestMethod]
    public void SpeculatedCompaction_FailsLaterSpeculatedReads_ButNotAppliedReads()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Machine.Speculate(store.Command(new CompactionRequest { Revision = 3 }), 3);
        var old = StoreDriver.As<EtcdError>(store.Machine.Speculate(store.Command(new RangeRequest { Key = B("a"), Revision = 2 }), 4));
        Assert.AreSame(EtcdError.Compacted, old);
        Assert.AreEqual("1", StoreDriver.S(store.GetKv("a", revision: 2)!.Value));
        Assert.AreEqual(-1, store.Machine.CompactedRevision);
    }

    [TestMethod]
    public void SpeculatedLeases_AreSeenByLaterSpeculation_ButNotByLeaseQueries()
    {
        var store = NewStore();
        var grant = StoreDriver.As<LeaseGrantResponse>(store.Machine.Speculate(store.Command(new LeaseGrantRequest { TtlSeconds = 10 }), 1));
        var put = store.Machine.Speculate(store.Command(new PutRequest { Key = B("k"), Value = B("v"), Lease = grant.Id }), 2);
        Assert.IsInstanceOfType<PutResponse>(put);
        var revoke = StoreDriver.As<LeaseRevokeResponse>(store.Machine.Speculate(store.Command(new LeaseRevokeRequest { Id = grant.Id }), 3));
        Assert.AreEqual(3, revoke.Header.Revision, "the revoke deletes the speculated key");
        Assert.AreEqual(0, store.Machine.Leases(0).Leases.Count);
        Assert.AreEqual(-1, store.Machine.LeaseTimeToLive(grant.Id, includeKeys: false, nowMs: 0).TtlSeconds);
    }

    [TestMethod]
    public void DiscardSpeculation_LeavesNoTrace()
    {
        var store = NewStore();
        var reference = NewStore();
        store.Put("a", "1");
        reference.Put("a", "1");
        store.Machine.Speculate(store.Command(new DeleteRangeRequest { Key = B("a") }), 2);
        store.Machine.Speculate(store.Command(new LeaseGrantRequest { Id = 5, TtlSeconds = 10 }), 3);
        store.Machine.Speculate(store.Command(new CompactionRequest { Revision = 2 }), 4);
        store.Machine.DiscardSpeculation();
        Assert.AreEqual((0, 2L), (store.Machine.SpeculatedCount, store.Machine.SpeculativeRevision));
        EtcdRequest[] replacement =
        [
            new PutRequest { Key = B("a"), Value = B("2"), PrevKv = true },
            new LeaseGrantRequest { Id = 5, TtlSeconds = 10 },
            new RangeRequest { Key = B("a"), Revision = 2 },
        ];
        var speculated = replacement.Select((r, i) => EtcdResultText.Render(store.Machine.Speculate(store.Command(r), (ulong)(i + 2)))).ToList();
        var applied = replacement.Select((r, i) => EtcdResultText.Render(store.Machine.Apply(store.Command(r), (ulong)(i + 2)))).ToList();
        var expected = replacement.Select(r => EtcdResultText.Render(reference.Apply(r))).ToList();
        CollectionAssert.AreEqual(expected, speculated);
        CollectionAssert.AreEqual(expected, applied);
        Assert.AreEqual(reference.Machine.StateDigest(), store.Machine.StateDigest());
    }

    [TestMethod]
    public void AppliedSequenceDepartingFromSpeculation_RebuildsTheOverlay()
    {
        var store = NewStore();
        var reference = NewStore();
        var speculatedPut = store.Command(new PutRequest { Key = B("a"), Value = B("speculated") });
        var second = store.Command(new TxnRequest
        {
            Compare = [new Compare { Key = B("a"), Target = CompareTarget.Value, Result = CompareResult.Equal, Value = B("speculated") }],
            Success = [new PutRequest { Key = B("then"), Value = B("1") }],
            Failure = [new PutRequest { Key = B("else"), Value = B("1") }],
        });
        var third = store.Command(new RangeRequest { Key = B("a") });
        store.Machine.Speculate(speculatedPut, 1);
        Assert.IsTrue(StoreDriver.As<TxnResponse>(store.Machine.Speculate(second, 2)).Succeeded);
        store.Machine.Speculate(third, 3);

        // Index 1 turns out to hold another command (the log was rewritten under a new leader).
        var actual = store.Command(new PutRequest { Key = B("a"), Value = B("actual") });
        store.Machine.Apply(actual, 1);
        reference.Apply(actual.Request);
        Assert.AreEqual(1, store.Machine.SpeculationRebuilds);
        var respeculated = store.Machine.Speculate(store.Command(new RangeRequest { Key = B("else") }), 4);
        Assert.AreEqual(1, StoreDriver.As<RangeResponse>(respeculated).Count, "the overlay now follows the applied put");
        Assert.AreEqual(EtcdResultText.Render(reference.Apply(second.Request)), EtcdResultText.Render(store.Machine.Apply(second, 2)));
        Assert.AreEqual(EtcdResultText.Render(reference.Apply(third.Request)), EtcdResultText.Render(store.Machine.Apply(third, 3)));
        Assert.AreEqual(reference.Machine.StateDigest(), store.Machine.StateDigest());
    }

    [TestMethod]
    public void SpeculatingAnIndexAgain_ReplacesTheSuffixFromThatIndex()
    {
        var store = NewStore();
        store.Machine.Speculate(store.Command(new PutRequest { Key = B("a"), Value = B("1") }), 1);
        store.Machine.Speculate(store.Command(new PutRequest { Key = B("b"), Value = B("1") }), 2);
        var replaced = StoreDriver.As<PutResponse>(store.Machine.Speculate(store.Command(new PutRequest { Key = B("c"), Value = B("1") }), 2));
        Assert.AreEqual(3, replaced.Header.Revision);
        Assert.AreEqual(2, store.Machine.SpeculatedCount);
        var range = StoreDriver.As<RangeResponse>(store.Machine.Speculate(store.Command(Everything), 3));
        CollectionAssert.AreEqual(new[] { "a", "c" }, Keys(range.Kvs));
    }

    [TestMethod]
    public void SpeculationBeyondItsBound_FailsLoudly()
    {
        var store = NewStore(new EtcdStoreOptions { MaxSpeculatedEntries = 2 });
        store.Machine.Speculate(store.Command(new PutRequest { Key = B("a"), Value = B("1") }), 1);
        store.Machine.Speculate(store.Command(new PutRequest { Key = B("b"), Value = B("1") }), 2);
        Assert.ThrowsExactly<InvalidOperationException>(() => store.Machine.Speculate(store.Command(new PutRequest { Key = B("c"), Value = B("1") }), 3));
    }

    [TestMethod]
    public void CommandsOfAnotherType_AreRejected()
    {
        var store = NewStore();
        var foreign = new ForeignCommand();
        Assert.ThrowsExactly<ArgumentException>(() => store.Machine.Apply(foreign, 1));
        Assert.ThrowsExactly<ArgumentException>(() => store.Machine.Speculate(foreign, 1));
        Assert.ThrowsExactly<ArgumentException>(() => store.Machine.Read(store.Command(new PutRequest { Key = B("a") })));
    }

    private sealed class ForeignCommand : ICommand
    {
        public ProposeId Id => new(9, 9);

        public IReadOnlyList<KeyRange> KeyRanges => [];

        public bool IsReadOnly => false;
    }
}
