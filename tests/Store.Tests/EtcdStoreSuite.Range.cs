namespace CurpStore.Store.Tests;

/// <summary>Range: range_end rules, limit, count, sort, filters, keys/count only. The fixture repeats the sequence run
/// against etcd when checking sort and filter behaviour: s/a=3 (rev 2), s/b=1 (3), s/c=2 (4), s/d=1 (5), s/b=5 (6),
/// s/e=0 (7); plus "a" and "t" around the prefix.</summary>
public abstract partial class EtcdStoreSuite
{
    private static readonly byte[] SPrefix = B("s/");
    private static readonly byte[] SPrefixEnd = B("s0");

    private StoreDriver SortFixture()
    {
        var store = NewStore();
        store.Put("s/a", "3");
        store.Put("s/b", "1");
        store.Put("s/c", "2");
        store.Put("s/d", "1");
        store.Put("s/b", "5");
        store.Put("s/e", "0");
        store.Put("a", "outside");
        store.Put("t", "outside");
        return store;
    }

    private static RangeRequest SRange(long limit = 0, SortOrder order = SortOrder.None, SortTarget target = SortTarget.Key) =>
        new() { Key = SPrefix, RangeEnd = SPrefixEnd, Limit = limit, SortOrder = order, SortTarget = target };

    [TestMethod]
    public void RangeEnd_Empty_IsTheSingleKey()
    {
        var store = SortFixture();
        var answer = store.Range(new RangeRequest { Key = B("s/b") });
        CollectionAssert.AreEqual(new[] { "s/b" }, Keys(answer.Kvs));
        Assert.AreEqual(1, answer.Count);
    }

    [TestMethod]
    public void RangeEnd_ZeroByte_IsEveryKeyFromTheKeyOn()
    {
        var store = SortFixture();
        var answer = store.Range(new RangeRequest { Key = B("s/c"), RangeEnd = [0] });
        CollectionAssert.AreEqual(new[] { "s/c", "s/d", "s/e", "t" }, Keys(answer.Kvs));
        var all = store.Range(new RangeRequest { Key = [0], RangeEnd = [0] });
        Assert.AreEqual(7, all.Count, "key \\0 with range end \\0 is the whole key space");
    }

    [TestMethod]
    public void RangeEnd_IsExclusive_AndAPrefixEndSelectsThePrefix()
    {
        var store = SortFixture();
        CollectionAssert.AreEqual(new[] { "s/a", "s/b" }, Keys(store.Range(new RangeRequest { Key = B("s/a"), RangeEnd = B("s/c") }).Kvs));
        var prefix = store.Range(new RangeRequest { Key = SPrefix, RangeEnd = Curp.KeyRange.PrefixEnd(SPrefix) });
        CollectionAssert.AreEqual(new[] { "s/a", "s/b", "s/c", "s/d", "s/e" }, Keys(prefix.Kvs));
    }

    [TestMethod]
    public void RangeEnd_AtOrBelowTheKey_IsEmpty()
    {
        var store = SortFixture();
        var answer = store.Range(new RangeRequest { Key = SPrefixEnd, RangeEnd = SPrefix });
        Assert.AreEqual((0, 0L, 9L), (answer.Kvs.Count, answer.Count, answer.Header.Revision));
        Assert.AreEqual(0, store.Range(new RangeRequest { Key = B("s/a"), RangeEnd = B("s/a") }).Count);
    }

    [TestMethod]
    public void Limit_TruncatesInKeyOrder_SetsMore_AndCountsEveryMatch()
    {
        var store = SortFixture();
        var answer = store.Range(SRange(limit: 2));
        CollectionAssert.AreEqual(new[] { "s/a", "s/b" }, Keys(answer.Kvs));
        Assert.IsTrue(answer.More);
        Assert.AreEqual(5, answer.Count);
        var exact = store.Range(SRange(limit: 5));
        Assert.IsFalse(exact.More);
        Assert.AreEqual(5, exact.Kvs.Count);
    }

    [TestMethod]
    public void CountOnly_CountsWithoutKeys_AndIgnoresTheLimit()
    {
        var store = SortFixture();
        var answer = store.Range(SRange(limit: 1) with { CountOnly = true });
        Assert.AreEqual((0, 5L, false), (answer.Kvs.Count, answer.Count, answer.More));
    }

    [TestMethod]
    public void KeysOnly_DropsValues_ButKeepsRevisions()
    {
        var store = SortFixture();
        var kv = store.Range(SRange() with { KeysOnly = true }).Kvs[1];
        Assert.AreEqual(("s/b", 0, 3L, 6L, 2L), (StoreDriver.S(kv.Key), kv.Value.Length, kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [TestMethod]
    public void SortByVersionDescending_KeepsKeyOrderAmongTies()
    {
        // Checked against etcd: ["s/b","s/a","s/c"], count 5, more true.
        var store = SortFixture();
        var answer = store.Range(SRange(limit: 3, SortOrder.Descend, SortTarget.Version));
        CollectionAssert.AreEqual(new[] { "s/b", "s/a", "s/c" }, Keys(answer.Kvs));
        Assert.AreEqual((5L, true), (answer.Count, answer.More));
    }

    [TestMethod]
    public void SortTargetWithoutOrder_SortsAscending()
    {
        var store = SortFixture();
        CollectionAssert.AreEqual(new[] { "s/a", "s/c", "s/d", "s/e", "s/b" }, Keys(store.Range(SRange(target: SortTarget.Version)).Kvs));
    }

    [TestMethod]
    public void SortTargetWithoutOrder_AndALimit_SortsOnlyTheFirstLimitPlusOneKeys()
    {
        // etcd pushes the limit down before it turns "no order" into "ascending"; checked against etcd with s/a at
        // version 3: no order gives ["s/c","s/b"], explicit ascending gives ["s/c","s/d"].
        var store = SortFixture();
        store.Put("s/a", "3");
        store.Put("s/a", "3");
        CollectionAssert.AreEqual(new[] { "s/c", "s/b" }, Keys(store.Range(SRange(limit: 2, target: SortTarget.Version)).Kvs));
        CollectionAssert.AreEqual(new[] { "s/c", "s/d" }, Keys(store.Range(SRange(limit: 2, SortOrder.Ascend, SortTarget.Version)).Kvs));
    }

    [TestMethod]
    [DataRow(SortTarget.Value, SortOrder.Descend, "s/b,s/a,s/c,s/d,s/e")]
    [DataRow(SortTarget.Value, SortOrder.Ascend, "s/e,s/d,s/c,s/a,s/b")]
    [DataRow(SortTarget.Create, SortOrder.Descend, "s/e,s/d,s/c,s/b,s/a")]
    [DataRow(SortTarget.Mod, SortOrder.Ascend, "s/a,s/c,s/d,s/b,s/e")]
    [DataRow(SortTarget.Mod, SortOrder.Descend, "s/e,s/b,s/d,s/c,s/a")]
    [DataRow(SortTarget.Key, SortOrder.Descend, "s/e,s/d,s/c,s/b,s/a")]
    [DataRow(SortTarget.Key, SortOrder.Ascend, "s/a,s/b,s/c,s/d,s/e")]
    public void Sort_OrdersByTheTarget(SortTarget target, SortOrder order, string expected)
    {
        var store = SortFixture();
        Assert.AreEqual(expected, string.Join(',', Keys(store.Range(SRange(order: order, target: target)).Kvs)));
    }

    [TestMethod]
    public void SortByKeyDescending_WithALimit_TakesTheLastKeys()
    {
        var store = SortFixture();
        var answer = store.Range(SRange(limit: 2, SortOrder.Descend));
        CollectionAssert.AreEqual(new[] { "s/e", "s/d" }, Keys(answer.Kvs));
        Assert.IsTrue(answer.More);
    }

    [TestMethod]
    public void MinModRevision_FiltersAfterTheFetch_SoCountStaysUnfiltered()
    {
        // Checked against etcd: ["s/b"], count 5, more true.
        var store = SortFixture();
        var answer = store.Range(SRange(limit: 1) with { MinModRevision = 5 });
        CollectionAssert.AreEqual(new[] { "s/b" }, Keys(answer.Kvs));
        Assert.AreEqual((5L, true), (answer.Count, answer.More));
    }

    [TestMethod]
    [DataRow(0L, 3L, 0L, 0L, "s/a,s/b")]
    [DataRow(4L, 0L, 0L, 0L, "s/c,s/d,s/e")]
    [DataRow(0L, 0L, 0L, 5L, "s/a,s/c,s/d")]
    [DataRow(0L, 0L, 5L, 6L, "s/b,s/d")]
    public void CreateAndModRevisionFilters_KeepOnlyMatchingKeys(long minCreate, long maxCreate, long minMod, long maxMod, string expected)
    {
        var store = SortFixture();
        var answer = store.Range(SRange() with
        {
            MinCreateRevision = minCreate,
            MaxCreateRevision = maxCreate,
            MinModRevision = minMod,
            MaxModRevision = maxMod,
        });
        Assert.AreEqual(expected, string.Join(',', Keys(answer.Kvs)));
        Assert.AreEqual(5, answer.Count);
    }

    [TestMethod]
    public void NegativeRevision_ReadsTheCurrentRevision()
    {
        var store = SortFixture();
        Assert.AreEqual(5, store.Range(SRange() with { Revision = -3, CountOnly = true }).Count);
    }

    [TestMethod]
    public void PastRevision_SeesTheKeysThatExistedThen()
    {
        var store = SortFixture();
        var answer = store.Range(SRange() with { Revision = 4 });
        CollectionAssert.AreEqual(new[] { "s/a", "s/b", "s/c" }, Keys(answer.Kvs));
        Assert.AreEqual(1, answer.Kvs[1].Version);
        Assert.AreEqual(9, answer.Header.Revision);
    }

    [TestMethod]
    public void FutureRevision_FailsOutOfRange()
    {
        var store = SortFixture();
        var error = store.RangeFails(new RangeRequest { Key = B("s/a"), Revision = 10 });
        Assert.AreEqual((EtcdErrorKind.FutureRevision, GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"), (error.Kind, error.Code, error.Message));
        Assert.AreEqual(1, store.Range(new RangeRequest { Key = B("s/a"), Revision = 9 }).Count);
    }

    [TestMethod]
    public void UnknownSortOption_IsRejected()
    {
        var store = SortFixture();
        var error = store.RangeFails(SRange(order: (SortOrder)7));
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: invalid sort option"), (error.Code, error.Message));
        Assert.AreSame(EtcdError.InvalidSortOption, store.RangeFails(SRange(target: (SortTarget)9)));
    }

    [TestMethod]
    public void RangeThroughTheLog_AnswersLikeARead()
    {
        var store = SortFixture();
        var applied = store.Ok<RangeResponse>(SRange(limit: 2));
        Assert.AreEqual(EtcdResultText.Render(store.Range(SRange(limit: 2))), EtcdResultText.Render(applied));
        Assert.AreEqual(9, store.Machine.Revision);
    }
}
