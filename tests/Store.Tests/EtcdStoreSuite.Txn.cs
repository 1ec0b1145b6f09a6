namespace CurpStore.Store.Tests;

/// <summary>Txn: compares on every target and result, range compares, branches, nested txns, one revision for all
/// writes, the duplicate-key and op-count checks, and the checks that run before anything is written.</summary>
public abstract partial class EtcdStoreSuite
{
    private static Compare Cmp(string key, CompareTarget target, CompareResult result, long number = 0, string? value = null, string? rangeEnd = null) => new()
    {
        Key = B(key),
        RangeEnd = rangeEnd is null ? [] : B(rangeEnd),
        Target = target,
        Result = result,
        Version = number,
        CreateRevision = number,
        ModRevision = number,
        Lease = number,
        Value = value is null ? [] : B(value),
    };

    private static PutRequest PutOp(string key, string value, long lease = 0) => new() { Key = B(key), Value = B(value), Lease = lease };

    /// <summary>"k" created at 3, modified at 4 (version 2, value "v2", lease 7); "other" at 2.</summary>
    private StoreDriver CompareFixture()
    {
        var store = NewStore();
        store.Grant(100, id: 7);
        store.Put("other", "o");
        store.Put("k", "v1");
        store.Put("k", "v2", lease: 7);
        return store;
    }

    [TestMethod]
    [DataRow(CompareTarget.Version, CompareResult.Equal, 2L, true)]
    [DataRow(CompareTarget.Version, CompareResult.Greater, 1L, true)]
    [DataRow(CompareTarget.Version, CompareResult.Less, 2L, false)]
    [DataRow(CompareTarget.Version, CompareResult.NotEqual, 2L, false)]
    [DataRow(CompareTarget.Create, CompareResult.Equal, 3L, true)]
    [DataRow(CompareTarget.Create, CompareResult.Less, 4L, true)]
    [DataRow(CompareTarget.Create, CompareResult.Greater, 3L, false)]
    [DataRow(CompareTarget.Mod, CompareResult.Equal, 4L, true)]
    [DataRow(CompareTarget.Mod, CompareResult.NotEqual, 3L, true)]
    [DataRow(CompareTarget.Mod, CompareResult.Less, 4L, false)]
    [DataRow(CompareTarget.Lease, CompareResult.Equal, 7L, true)]
    [DataRow(CompareTarget.Lease, CompareResult.Greater, 7L, false)]
    [DataRow(CompareTarget.Lease, CompareResult.NotEqual, 0L, true)]
    public void NumericCompare_ChoosesTheBranch(CompareTarget target, CompareResult result, long operand, bool expected)
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Compare = [Cmp("k", target, result, operand)],
            Success = [PutOp("then", "1")],
            Failure = [PutOp("else", "1")],
        });
        Assert.AreEqual(expected, answer.Succeeded);
        Assert.AreEqual(expected, store.GetKv("then") is not null);
        Assert.AreEqual(!expected, store.GetKv("else") is not null);
    }

    [TestMethod]
    [DataRow(CompareResult.Equal, "v2", true)]
    [DataRow(CompareResult.Equal, "v1", false)]
    [DataRow(CompareResult.Greater, "v1", true)]
    [DataRow(CompareResult.Less, "v3", true)]
    [DataRow(CompareResult.NotEqual, "v2", false)]
    public void ValueCompare_ComparesBytes(CompareResult result, string operand, bool expected)
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("k", CompareTarget.Value, result, value: operand)] });
        Assert.AreEqual(expected, answer.Succeeded);
    }

    [TestMethod]
    [DataRow(CompareTarget.Version, CompareResult.Equal, 0L, true)]
    [DataRow(CompareTarget.Create, CompareResult.Equal, 0L, true)]
    [DataRow(CompareTarget.Mod, CompareResult.Less, 1L, true)]
    [DataRow(CompareTarget.Lease, CompareResult.Equal, 0L, true)]
    [DataRow(CompareTarget.Version, CompareResult.Greater, 0L, false)]
    public void CompareOnAMissingKey_SeesZeros(CompareTarget target, CompareResult result, long operand, bool expected)
    {
        var store = CompareFixture();
        Assert.AreEqual(expected, store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("missing", target, result, operand)] }).Succeeded);
    }

    [TestMethod]
    public void ValueCompareOnAMissingKey_AlwaysFails_EvenNotEqual()
    {
        // Checked against etcd: a VALUE NOT_EQUAL compare on an empty range did not succeed.
        var store = CompareFixture();
        Assert.IsFalse(store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("missing", CompareTarget.Value, CompareResult.NotEqual, value: "x")] }).Succeeded);
        Assert.IsFalse(store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("zz", CompareTarget.Value, CompareResult.NotEqual, value: "1", rangeEnd: "zzz")] }).Succeeded);
    }

    [TestMethod]
    public void RangeCompare_HoldsOnlyWhenEveryKeyInTheRangeMatches()
    {
        var store = SortFixture();
        Assert.IsTrue(store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("s/", CompareTarget.Create, CompareResult.Greater, 1, rangeEnd: "s0")] }).Succeeded);
        Assert.IsFalse(store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("s/", CompareTarget.Create, CompareResult.Greater, 2, rangeEnd: "s0")] }).Succeeded);
        Assert.IsTrue(store.Ok<TxnResponse>(new TxnRequest { Compare = [Cmp("s/", CompareTarget.Version, CompareResult.Less, 3, rangeEnd: "s0")] }).Succeeded);
    }

    [TestMethod]
    public void EveryCompareMustHold()
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Compare = [Cmp("k", CompareTarget.Version, CompareResult.Equal, 2), Cmp("other", CompareTarget.Version, CompareResult.Equal, 5)],
            Failure = [new RangeRequest { Key = B("k") }],
        });
        Assert.IsFalse(answer.Succeeded);
        Assert.AreEqual("v2", StoreDriver.S(answer.Responses.Single().ResponseRange!.Kvs.Single().Value));
    }

    [TestMethod]
    public void TxnWrites_ShareOneMainRevision_WithSubRevisionsInOpOrder()
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Success = [PutOp("x", "1"), new DeleteRangeRequest { Key = B("other") }, PutOp("y", "2")],
        });
        Assert.AreEqual(5, answer.Header.Revision);
        Assert.AreEqual(5, store.GetKv("x")!.ModRevision);
        Assert.AreEqual(5, store.GetKv("y")!.ModRevision);
        Assert.IsNull(store.GetKv("other"));
        var events = store.Machine.LastAppliedEvents;
        CollectionAssert.AreEqual(new[] { "x", "other", "y" }, events.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
        CollectionAssert.AreEqual(new[] { WatchEventType.Put, WatchEventType.Delete, WatchEventType.Put }, events.Select(e => e.Type).ToArray());
        Assert.AreEqual(6, store.Put("z", "3").Header.Revision);
    }

    [TestMethod]
    public void TxnThatChangesNothing_KeepsTheRevision()
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Compare = [Cmp("k", CompareTarget.Version, CompareResult.Equal, 9)],
            Success = [PutOp("x", "1")],
            Failure = [new DeleteRangeRequest { Key = B("missing") }, new RangeRequest { Key = B("k") }],
        });
        Assert.AreEqual(4, answer.Header.Revision);
        Assert.AreEqual(4, store.Machine.Revision);
        Assert.AreEqual(4, store.Ok<TxnResponse>(new TxnRequest()).Header.Revision, "an empty txn is answered at the current revision");
    }

    [TestMethod]
    public void ReadsInsideATxn_SeeItsOwnWrites_AndReportItsRevision()
    {
        // Checked against etcd: [range r7 -> header 5, no kvs], [put -> 6], [range r7 -> header 6, kv at 6].
        var store = NewStore();
        for (var i = 0; i < 4; i++)
        {
            store.Put($"fill{i}", "x");
        }
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Success = [new RangeRequest { Key = B("r7") }, new PutRequest { Key = B("r7"), Value = B("x"), PrevKv = true }, new RangeRequest { Key = B("r7") }],
        });
        var before = answer.Responses[0].ResponseRange!;
        var put = answer.Responses[1].ResponsePut!;
        var after = answer.Responses[2].ResponseRange!;
        Assert.AreEqual((5L, 0L), (before.Header.Revision, before.Count));
        Assert.AreEqual(6, put.Header.Revision);
        Assert.IsNull(put.PrevKv);
        Assert.AreEqual((6L, 1L, 6L), (after.Header.Revision, after.Count, after.Kvs[0].CreateRevision));
    }

    [TestMethod]
    public void DeleteInsideATxn_ReportsTheOldRevision_UntilSomethingWasWritten()
    {
        // Checked against etcd: a delete that removed nothing before any write answers the txn's start revision.
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Success = [new DeleteRangeRequest { Key = B("missing") }, PutOp("x", "1"), new DeleteRangeRequest { Key = B("missing2") }],
        });
        Assert.AreEqual(4, answer.Responses[0].ResponseDeleteRange!.Header.Revision);
        Assert.AreEqual(5, answer.Responses[1].ResponsePut!.Header.Revision);
        Assert.AreEqual(5, answer.Responses[2].ResponseDeleteRange!.Header.Revision);
    }

    [TestMethod]
    public void NestedTxnCompares_SeeTheStoreBeforeTheOuterTxn_AndTheNestedHeaderIsZero()
    {
        // Checked against etcd: the outer txn puts n8, the nested compare "version(n8) == 0" still succeeds, and the
        // nested response header is empty.
        var store = NewStore();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Success =
            [
                PutOp("n8", "1"),
                new TxnRequest
                {
                    Compare = [Cmp("n8", CompareTarget.Version, CompareResult.Equal, 0)],
                    Success = [PutOp("n8s", "s")],
                    Failure = [PutOp("n8f", "f")],
                },
            ],
        });
        var nested = answer.Responses[1].ResponseTxn!;
        Assert.IsTrue(nested.Succeeded);
        Assert.AreEqual(0, nested.Header.Revision);
        Assert.AreEqual(2, nested.Responses[0].ResponsePut!.Header.Revision);
        Assert.AreEqual(2, answer.Header.Revision);
        Assert.IsNotNull(store.GetKv("n8s"));
        Assert.IsNull(store.GetKv("n8f"));
        CollectionAssert.AreEqual(new[] { "n8", "n8s" }, store.Machine.LastAppliedEvents.Select(e => StoreDriver.S(e.Kv.Key)).ToArray());
    }

    [TestMethod]
    public void NestedTxnInTheFailureBranch_RunsItsOwnBranch()
    {
        var store = CompareFixture();
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Compare = [Cmp("k", CompareTarget.Value, CompareResult.Equal, value: "nope")],
            Failure =
            [
                new TxnRequest { Compare = [Cmp("k", CompareTarget.Value, CompareResult.Equal, value: "v2")], Success = [PutOp("deep", "1")] },
                new TxnRequest { Compare = [Cmp("k", CompareTarget.Value, CompareResult.Equal, value: "x")], Failure = [PutOp("deeper", "1")] },
            ],
        });
        Assert.IsFalse(answer.Succeeded);
        Assert.IsTrue(answer.Responses[0].ResponseTxn!.Succeeded);
        Assert.IsFalse(answer.Responses[1].ResponseTxn!.Succeeded);
        Assert.AreEqual(5, store.GetKv("deep")!.ModRevision);
        Assert.AreEqual(5, store.GetKv("deeper")!.ModRevision);
    }

    [TestMethod]
    public void TwoPutsOfTheSameKey_AreADuplicate()
    {
        // Checked against etcd: {"error":"etcdserver: duplicate key given in txn request","code":3}.
        var store = NewStore();
        var error = store.Fail(new TxnRequest { Success = [PutOp("x1", "1"), PutOp("x1", "2")] });
        Assert.AreEqual((EtcdErrorKind.DuplicateKey, GrpcStatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request"), (error.Kind, error.Code, error.Message));
        Assert.AreEqual(1, store.Machine.Revision);
    }

    [TestMethod]
    public void PutInsideADeletedRange_IsADuplicate_AtAnyNestingLevel()
    {
        var store = NewStore();
        Assert.AreSame(EtcdError.DuplicateKey, store.Fail(new TxnRequest { Success = [new DeleteRangeRequest { Key = B("t1a"), RangeEnd = B("t1z") }, PutOp("t1b", "x")] }));
        Assert.AreSame(EtcdError.DuplicateKey, store.Fail(new TxnRequest { Failure = [new DeleteRangeRequest { Key = B("k") }, new TxnRequest { Success = [PutOp("k", "x")] }] }));
        Assert.AreSame(EtcdError.DuplicateKey, store.Fail(new TxnRequest { Success = [PutOp("k", "x"), new TxnRequest { Failure = [new DeleteRangeRequest { Key = B("a"), RangeEnd = B("z") }] }] }));
        Assert.AreSame(EtcdError.DuplicateKey, store.Fail(new TxnRequest { Success = [PutOp("k", "x"), new TxnRequest { Success = [PutOp("k", "y")] }] }));
    }

    [TestMethod]
    public void BothBranchesOfANestedTxn_MayPutTheSameKey()
    {
        var store = NewStore();
        var answer = store.Ok<TxnResponse>(new TxnRequest { Success = [new TxnRequest { Success = [PutOp("k", "then")], Failure = [PutOp("k", "else")] }] });
        Assert.IsTrue(answer.Succeeded);
        Assert.AreEqual("then", StoreDriver.S(store.GetKv("k")!.Value));
    }

    [TestMethod]
    public void FromKeyDeleteAndAPutInside_AreNotADuplicate_SoTheKeyChangesTwiceInOneRevision()
    {
        // etcd's interval check treats range end "\0" literally, which makes an empty interval. Checked against etcd:
        // put u2b then delete from u2a: both succeed at revision 5, the delete's prev_kvs holds the put, and the key is
        // gone; a watch sees PUT then DELETE at the same revision, the DELETE without prev_kv.
        var store = NewStore();
        for (var i = 0; i < 3; i++)
        {
            store.Put($"a{i}", "x");
        }
        var answer = store.Ok<TxnResponse>(new TxnRequest
        {
            Success =
            [
                PutOp("u2b", "x"),
                new DeleteRangeRequest { Key = B("u2a"), RangeEnd = [0], PrevKv = true },
                new RangeRequest { Key = B("u2b") },
            ],
        });
        Assert.AreEqual(5, answer.Header.Revision);
        var delete = answer.Responses[1].ResponseDeleteRange!;
        Assert.AreEqual((1L, 5L), (delete.Deleted, delete.Header.Revision));
        Assert.AreEqual((5L, 5L, 1L), (delete.PrevKvs[0].CreateRevision, delete.PrevKvs[0].ModRevision, delete.PrevKvs[0].Version));
        Assert.AreEqual(0, answer.Responses[2].ResponseRange!.Count);
        Assert.IsNull(store.GetKv("u2b"));
        var events = store.Machine.LastAppliedEvents;
        CollectionAssert.AreEqual(new[] { WatchEventType.Put, WatchEventType.Delete }, events.Select(e => e.Type).ToArray());
        Assert.IsTrue(events.All(e => e.Kv.ModRevision == 5));
        Assert.IsNull(events[1].PrevKv);
    }

    [TestMethod]
    public void TooManyOps_AreRejected_AtTheConfiguredLimit()
    {
        var store = NewStore();
        var puts = Enumerable.Range(0, 129).Select(i => (RequestOp)PutOp($"k{i:000}", "v")).ToList();
        var error = store.Fail(new TxnRequest { Success = puts });
        Assert.AreEqual((EtcdErrorKind.TooManyOps, GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request"), (error.Kind, error.Code, error.Message));
        Assert.IsTrue(store.Ok<TxnResponse>(new TxnRequest { Success = puts.Take(128).ToList() }).Succeeded);

        var small = NewStore(new EtcdStoreOptions { MaxTxnOps = 3 });
        var compares = Enumerable.Range(0, 4).Select(i => Cmp($"c{i}", CompareTarget.Version, CompareResult.Equal)).ToList();
        Assert.AreSame(EtcdError.TooManyOps, small.Fail(new TxnRequest { Compare = compares }));
        Assert.IsTrue(small.Ok<TxnResponse>(new TxnRequest { Compare = compares.Take(3).ToList() }).Succeeded);
    }

    [TestMethod]
    public void NestedTxn_GetsOnlyWhatIsLeftOfTheOpBudget()
    {
        var store = NewStore(new EtcdStoreOptions { MaxTxnOps = 3 });
        var nestedTwo = new TxnRequest { Success = [PutOp("n1", "1"), PutOp("n2", "2")] };
        Assert.AreSame(EtcdError.TooManyOps, store.Fail(new TxnRequest { Success = [PutOp("a", "1"), nestedTwo] }));
        var nestedOne = new TxnRequest { Success = [PutOp("n1", "1")] };
        Assert.IsTrue(store.Ok<TxnResponse>(new TxnRequest { Success = [PutOp("a", "1"), nestedOne] }).Succeeded);
    }

    [TestMethod]
    public void EmptyRequestOp_IsRejectedAsKeyNotFound()
    {
        // Checked against etcd: {"success":[{}]} answers "etcdserver: key not found".
        var store = NewStore();
        Assert.AreSame(EtcdError.KeyNotFound, store.Fail(new TxnRequest { Success = [RequestOp.Empty] }));
    }

    [TestMethod]
    public void UnknownLease_FailsTheTxnOnlyInTheTakenBranch()
    {
        // Checked against etcd: failure-branch put with lease 999 passes when the success branch runs; in the taken
        // branch it fails with "requested lease not found" (NotFound).
        var store = NewStore();
        Assert.IsTrue(store.Ok<TxnResponse>(new TxnRequest { Success = [PutOp("lq", "1")], Failure = [PutOp("lq", "1", lease: 999)] }).Succeeded);
        var error = store.Fail(new TxnRequest { Success = [PutOp("other", "1"), PutOp("lq", "2", lease: 999)] });
        Assert.AreEqual((GrpcStatusCode.NotFound, "etcdserver: requested lease not found"), (error.Code, error.Message));
        Assert.IsNull(store.GetKv("other"), "nothing of a failed txn is written");
        Assert.AreEqual(2, store.Machine.Revision);
    }

    [TestMethod]
    public void IgnoreValueInATxn_NeedsTheKeyBeforeTheTxn()
    {
        var store = NewStore();
        var error = store.Fail(new TxnRequest { Success = [PutOp("k", "1"), new TxnRequest { Success = [new PutRequest { Key = B("j"), IgnoreValue = true }] }] });
        Assert.AreSame(EtcdError.KeyNotFound, error);
        Assert.AreEqual(1, store.Machine.Revision);
    }

    [TestMethod]
    public void RangeRevisionInsideATxn_IsCheckedAgainstTheStartRevision_AndNegativeMeansCompacted()
    {
        // Checked against etcd: a txn range at revision -3 failed as compacted (it is below etcd's first revision),
        // while a plain range at -3 reads the current revision.
        var store = NewStore();
        store.Put("a", "1");
        Assert.AreSame(EtcdError.Compacted, store.Fail(new TxnRequest { Success = [new RangeRequest { Key = B("a"), Revision = -3 }] }));
        Assert.AreSame(EtcdError.FutureRevision, store.Fail(new TxnRequest { Success = [PutOp("b", "1"), new RangeRequest { Key = B("a"), Revision = 3 }] }));
        var ok = store.Ok<TxnResponse>(new TxnRequest { Success = [PutOp("b", "1"), new RangeRequest { Key = B("a"), Revision = 2 }] });
        Assert.AreEqual(3, ok.Responses[1].ResponseRange!.Header.Revision);
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 3 });
        Assert.AreSame(EtcdError.Compacted, store.Fail(new TxnRequest { Success = [new RangeRequest { Key = B("a"), Revision = 2 }] }));
    }

    [TestMethod]
    public void PutChecks_RunBeforeRangeChecks()
    {
        var store = NewStore();
        var error = store.Fail(new TxnRequest { Success = [new RangeRequest { Key = B("a"), Revision = 50 }, PutOp("b", "1", lease: 9)] });
        Assert.AreSame(EtcdError.LeaseNotFound, error);
    }

    [TestMethod]
    public void ReadOnlyTxn_IsServedAsARead_AndAWritingTxnIsNot()
    {
        var store = CompareFixture();
        var readOnly = new TxnRequest
        {
            Compare = [Cmp("k", CompareTarget.Version, CompareResult.Equal, 2)],
            Success = [new RangeRequest { Key = B("k") }, new TxnRequest { Success = [new RangeRequest { Key = B("other") }] }],
            Failure = [new RangeRequest { Key = B("other") }],
        };
        Assert.IsTrue(store.Command(readOnly).IsReadOnly);
        var answer = StoreDriver.As<TxnResponse>(store.Machine.Read(readOnly));
        Assert.AreEqual((true, 4L), (answer.Succeeded, answer.Header.Revision));
        var writes = readOnly with { Failure = [PutOp("x", "1")] };
        Assert.IsFalse(store.Command(writes).IsReadOnly);
        Assert.ThrowsExactly<ArgumentException>(() => store.Machine.Read(writes));
    }

    [TestMethod]
    public void IgnoreValuePut_AfterAFromKeyDeleteOfItsKey_FailsTheWholeTxn()
    {
        // etcd passes its checks here and then panics when the put finds no key; the store fails the txn up front.
        var store = NewStore();
        store.Put("k", "v"); // 2
        var error = store.Fail(new TxnRequest { Success = [new DeleteRangeRequest { Key = B("a"), RangeEnd = [0] }, new TxnRequest { Success = [new PutRequest { Key = B("k"), IgnoreValue = true }] }] });
        Assert.AreSame(EtcdError.KeyNotFound, error);
        Assert.AreEqual(2, store.Machine.Revision);
        Assert.AreEqual("v", StoreDriver.S(store.GetKv("k")!.Value));
        var putFirst = store.Ok<TxnResponse>(new TxnRequest { Success = [new PutRequest { Key = B("k"), IgnoreValue = true }, new DeleteRangeRequest { Key = B("a"), RangeEnd = [0] }] });
        Assert.AreEqual(3, putFirst.Header.Revision);
        Assert.IsNull(store.GetKv("k"));
    }
}
