using CurpStore.Curp;

namespace CurpStore.Store.Tests;

/// <summary>What CURP's conflict check sees of etcd commands: their key ranges and whether they only read.</summary>
[TestClass]
public sealed class CommandKeyRangesTests
{
    private static byte[] B(string text) => StoreDriver.B(text);

    private static EtcdCommand Cmd(EtcdRequest request) => new(new ProposeId(1, 1), request);

    private static bool Conflict(EtcdRequest left, EtcdRequest right) => CommandConflicts.Conflict(Cmd(left), Cmd(right));

    [TestMethod]
    public void PutsOfDifferentKeysCommute_AndOfTheSameKeyConflict()
    {
        Assert.IsFalse(Conflict(new PutRequest { Key = B("a") }, new PutRequest { Key = B("b") }));
        Assert.IsTrue(Conflict(new PutRequest { Key = B("a") }, new PutRequest { Key = B("a") }));
    }

    [TestMethod]
    public void RangesAndDeletes_ConflictWithPutsInsideThem_FollowingEtcdRangeEnds()
    {
        Assert.IsTrue(Conflict(new RangeRequest { Key = B("a"), RangeEnd = B("c") }, new PutRequest { Key = B("b") }));
        Assert.IsFalse(Conflict(new RangeRequest { Key = B("a"), RangeEnd = B("c") }, new PutRequest { Key = B("c") }));
        Assert.IsTrue(Conflict(new DeleteRangeRequest { Key = B("m"), RangeEnd = [0] }, new PutRequest { Key = B("z") }));
        Assert.IsFalse(Conflict(new RangeRequest { Key = B("a") }, new RangeRequest { Key = B("a") }), "two reads never conflict");
    }

    [TestMethod]
    public void Txn_CoversItsComparesAndBothBranches_IncludingNestedTxns()
    {
        var txn = new TxnRequest
        {
            Compare = [new Compare { Key = B("cmp") }],
            Success = [new PutRequest { Key = B("then") }],
            Failure = [new TxnRequest { Success = [new DeleteRangeRequest { Key = B("x"), RangeEnd = B("y") }] }],
        };
        foreach (var key in new[] { "cmp", "then", "xa" })
        {
            Assert.IsTrue(Conflict(txn, new PutRequest { Key = B(key) }), key);
        }
        Assert.IsFalse(Conflict(txn, new PutRequest { Key = B("y") }));
    }

    [TestMethod]
    public void LeaseUsers_ConflictWithTheLeasesGrant_AndAChosenIdGrantWithEveryLeaseUser()
    {
        var put = new PutRequest { Key = B("k"), Lease = 7 };
        Assert.IsTrue(Conflict(put, new LeaseGrantRequest { Id = 7, TtlSeconds = 10 }));
        Assert.IsFalse(Conflict(put, new LeaseGrantRequest { Id = 8, TtlSeconds = 10 }));
        Assert.IsTrue(Conflict(put, new LeaseGrantRequest { TtlSeconds = 10 }));
        Assert.IsFalse(Conflict(new PutRequest { Key = B("k") }, new LeaseGrantRequest { TtlSeconds = 10 }));
        Assert.IsTrue(Conflict(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(7, 3)] }, put));
    }

    [TestMethod]
    public void RevokeAndCompaction_ConflictWithEverything()
    {
        foreach (var request in new EtcdRequest[] { new LeaseRevokeRequest { Id = 1 }, new CompactionRequest { Revision = 5 } })
        {
            Assert.IsTrue(Conflict(request, new PutRequest { Key = B("anything") }));
            Assert.IsTrue(Conflict(request, new RangeRequest { Key = [0xff, 0xff] }));
            Assert.IsTrue(Conflict(request, new LeaseGrantRequest { Id = 3 }));
        }
    }

    [TestMethod]
    public void OnlyRangesAndTxnsWithoutWrites_AreReadOnly()
    {
        Assert.IsTrue(Cmd(new RangeRequest { Key = B("a") }).IsReadOnly);
        Assert.IsTrue(Cmd(new TxnRequest { Success = [new RangeRequest { Key = B("a") }] }).IsReadOnly);
        Assert.IsFalse(Cmd(new TxnRequest { Failure = [new TxnRequest { Success = [new PutRequest { Key = B("a") }] }] }).IsReadOnly);
        Assert.IsFalse(Cmd(new PutRequest { Key = B("a") }).IsReadOnly);
        Assert.IsFalse(Cmd(new LeaseGrantRequest()).IsReadOnly);
    }
}
