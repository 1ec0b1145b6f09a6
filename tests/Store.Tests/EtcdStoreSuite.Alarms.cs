namespace CurpStore.Store.Tests;

/// <summary>Alarms as etcd applies them (applierV3backend.Alarm, the capped and corrupt appliers) and the store size
/// that etcd's Status reports and the backend quota is checked against.</summary>
public abstract partial class EtcdStoreSuite
{
    private static AlarmRequest Alarm(AlarmAction action, ulong member, AlarmType type) => new() { Action = action, MemberId = member, Alarm = type };

    private static string AlarmsOf(AlarmResponse response) => string.Join(",", response.Alarms.Select(a => $"{a.MemberId}:{a.Alarm}"));

    [TestMethod]
    public void AlarmActivate_AnswersTheAlarm_OnceOrAgain_AndGetListsEachOnceByTypeThenMember()
    {
        var store = NewStore();
        Assert.AreEqual("9:NoSpace", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 9, AlarmType.NoSpace))));
        Assert.AreEqual("9:NoSpace", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 9, AlarmType.NoSpace))));
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 3, AlarmType.Corrupt));
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 2, AlarmType.NoSpace));
        Assert.AreEqual("", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 4, AlarmType.None))), "etcd ignores activating NONE");
        Assert.AreEqual("2:NoSpace,9:NoSpace,3:Corrupt", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Get, 0, AlarmType.None))));
        Assert.AreEqual("3:Corrupt", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Get, 0, AlarmType.Corrupt))));
        Assert.AreEqual(1, store.Machine.Revision, "alarms are not key-value writes");
    }

    [TestMethod]
    public void AlarmDeactivate_AnswersWhatItCleared_AndNothingForAnAlarmNotRaised()
    {
        var store = NewStore();
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 9, AlarmType.NoSpace));
        Assert.AreEqual("", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Deactivate, 8, AlarmType.NoSpace))));
        Assert.AreEqual("", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Deactivate, 9, AlarmType.Corrupt))));
        Assert.AreEqual("9:NoSpace", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Deactivate, 9, AlarmType.NoSpace))));
        Assert.AreEqual("", AlarmsOf(store.Ok<AlarmResponse>(Alarm(AlarmAction.Get, 0, AlarmType.None))));
        store.Put("a", "1");
    }

    [TestMethod]
    public void NoSpaceAlarm_RefusesPutsTxnsWithPutsAndLeaseGrants_ButServesReadsDeletesAndCompaction()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Put("b", "1");
        var lease = store.Grant(100);
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 1, AlarmType.NoSpace));

        var noSpace = store.Fail(new PutRequest { Key = B("c"), Value = B("1") });
        Assert.AreEqual((GrpcStatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"), (noSpace.Code, noSpace.Message));
        Assert.AreSame(EtcdError.NoSpace, store.Fail(new TxnRequest { Failure = [new PutRequest { Key = B("c"), Value = B("1") }] }), "a put in either branch counts");
        Assert.AreSame(EtcdError.NoSpace, store.Fail(new LeaseGrantRequest { TtlSeconds = 10 }));

        Assert.AreEqual("1", StoreDriver.S(store.GetKv("a")!.Value));
        store.Ok<TxnResponse>(new TxnRequest { Success = [new RangeRequest { Key = B("a") }, new DeleteRangeRequest { Key = B("b") }] });
        store.Delete("a");
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = lease });
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = store.Machine.Revision });
        Assert.AreEqual(0, store.Range(new RangeRequest { Key = [0], RangeEnd = [0] }).Count);

        store.Ok<AlarmResponse>(Alarm(AlarmAction.Deactivate, 1, AlarmType.NoSpace));
        store.Put("c", "1");
        store.Grant(10);
    }

    [TestMethod]
    public void CorruptAlarm_RefusesEveryWrite_ButServesReads()
    {
        var store = NewStore();
        store.Put("a", "1");
        var lease = store.Grant(100);
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 1, AlarmType.Corrupt));

        var corrupt = store.Fail(new DeleteRangeRequest { Key = B("a") });
        Assert.AreEqual((GrpcStatusCode.DataLoss, "etcdserver: corrupt cluster"), (corrupt.Code, corrupt.Message));
        EtcdRequest[] writes =
        [
            new PutRequest { Key = B("b"), Value = B("1") },
            new TxnRequest { Success = [new DeleteRangeRequest { Key = B("a") }] },
            new CompactionRequest { Revision = 2 },
            new LeaseGrantRequest { TtlSeconds = 10 },
            new LeaseRevokeRequest { Id = lease },
        ];
        foreach (var write in writes)
        {
            Assert.AreSame(EtcdError.Corrupt, store.Fail(write), write.GetType().Name);
        }
        Assert.AreEqual("1", StoreDriver.S(store.GetKv("a")!.Value));
        var read = store.Machine.Read(new TxnRequest { Success = [new RangeRequest { Key = B("a") }] });
        Assert.IsInstanceOfType<TxnResponse>(read);
        Assert.AreEqual(2, store.Machine.Revision);
    }

    [TestMethod]
    public void Alarms_SurviveARestart_AndTravelInSnapshots()
    {
        var store = NewStore();
        store.Put("a", "1");
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 5, AlarmType.NoSpace));
        store.Ok<AlarmResponse>(Alarm(AlarmAction.Activate, 6, AlarmType.Corrupt));
        var image = store.Machine.TakeSnapshot();

        var other = NewStore();
        other.Machine.RestoreSnapshot(image);
        other.NextIndex = store.NextIndex;
        Assert.AreEqual("5:NoSpace,6:Corrupt", string.Join(",", other.Machine.Alarms.All.Select(a => $"{a.MemberId}:{a.Alarm}")));
        Assert.AreSame(EtcdError.Corrupt, other.Fail(new PutRequest { Key = B("b"), Value = B("1") }));

        var restarted = Restart(store);
        Assert.AreEqual("5:NoSpace,6:Corrupt", string.Join(",", restarted.Machine.Alarms.All.Select(a => $"{a.MemberId}:{a.Alarm}")));
    }

    [TestMethod]
    public void SpeculatedAlarm_RefusesLaterSpeculatedWrites_AsTheAppliedOneWill()
    {
        var store = NewStore();
        store.Machine.Speculate(store.Command(Alarm(AlarmAction.Activate, 1, AlarmType.NoSpace)), 1);
        var put = store.Machine.Speculate(store.Command(new PutRequest { Key = B("a"), Value = B("1") }), 2);
        Assert.AreSame(EtcdError.NoSpace, put);
        Assert.IsTrue(store.Machine.Alarms.IsEmpty, "nothing is applied yet");
    }

    [TestMethod]
    public void DbSizeInUse_IsTheRecordsAsEtcdStoresThem_AndDbSizeShrinksOnlyOnDefragment()
    {
        var store = NewStore();
        Assert.AreEqual((0L, 0L), (store.Machine.DbSizeInUseBytes, store.Machine.DbSizeBytes));
        store.Put("a", "1"); // revision 2
        // 17 (revision key) + key (1+1+1) + create_revision 2 (1+1) + mod_revision 2 (1+1) + version 1 (1+1) + value (1+1+1)
        Assert.AreEqual(29, store.Machine.DbSizeInUseBytes);
        store.Put("a", new string('x', 200)); // revision 3: value field 1 + 2 (varint 200) + 200
        Assert.AreEqual(29 + 17 + 3 + 2 + 2 + 2 + 203, store.Machine.DbSizeInUseBytes);
        store.Delete("a"); // revision 4: a tombstone stores only the key: 18 + 3
        var beforeCompaction = 29 + 229 + 21;
        Assert.AreEqual(beforeCompaction, store.Machine.DbSizeInUseBytes);

        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 4 });
        Assert.AreEqual(21, store.Machine.DbSizeInUseBytes, "compacting at the tombstone keeps only the tombstone");
        Assert.AreEqual(beforeCompaction, store.Machine.DbSizeBytes, "freed space stays in the database until a defragment");
        store.Machine.Defragment();
        Assert.AreEqual(21, store.Machine.DbSizeBytes);

        store.Put("b", "1"); // revision 5
        Assert.AreEqual(21 + 29, store.Machine.DbSizeInUseBytes);
        store.Put("c", "1");
        store.Delete("c");
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = store.Machine.Revision });
        var inUse = store.Machine.DbSizeInUseBytes;
        Assert.IsGreaterThan(inUse, store.Machine.DbSizeBytes);
        var restarted = Restart(store);
        Assert.AreEqual((inUse, inUse), (restarted.Machine.DbSizeInUseBytes, restarted.Machine.DbSizeBytes), "a restart starts from what is in use");
    }

    [TestMethod]
    public void QuotaCost_IsEtcds_256BytesPerPutPlusKeyAndValue_TheLargerTxnBranch_And64PerLeaseGrant()
    {
        Assert.AreEqual(256 + 3 + 5, EtcdStateMachine.QuotaCost(new PutRequest { Key = B("abc"), Value = B("12345") }));
        Assert.AreEqual(2 * 258, EtcdStateMachine.QuotaCost(new TxnRequest
        {
            Success = [new PutRequest { Key = B("a"), Value = B("1") }],
            Failure = [new PutRequest { Key = B("b"), Value = B("1") }, new DeleteRangeRequest { Key = B("c") }, new PutRequest { Key = B("d"), Value = B("1") }],
        }));
        Assert.AreEqual(0, EtcdStateMachine.QuotaCost(new TxnRequest { Success = [new DeleteRangeRequest { Key = B("c") }] }));
        Assert.AreEqual(64, EtcdStateMachine.QuotaCost(new LeaseGrantRequest { TtlSeconds = 5 }));
        Assert.AreEqual(0, EtcdStateMachine.QuotaCost(new DeleteRangeRequest { Key = B("c") }));
    }
}
