using System.Text;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using AuthPb = CurpStore.Rpc.Etcd.AuthPb;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using S = CurpStore.Store;

namespace CurpStore.Server.Tests.Etcd;

/// <summary>One value in both shapes, built independently: the etcd message and the store record it must map to.</summary>
internal sealed record Sample(string Name, IMessage Proto, object Store)
{
    public override string ToString() => Name;
}

/// <summary>
/// Samples of every mapped message with a distinct, non-default value in every field (so a field that is dropped or
/// swapped with another changes the result). Booleans come in two samples with patterns that differ per field:
/// (1,0,1) and (0,1,1), so no two boolean fields agree in both.
/// </summary>
internal static class EtcdSamples
{
    /// <summary>The ids a serving member adds to every header.</summary>
    public static readonly EtcdHeaderIds Ids = new(ClusterId: 0xC1_0000_0001, MemberId: 0xE0_0000_0002, RaftTerm: 17);

    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    public static ByteString P(string text) => ByteString.CopyFromUtf8(text);

    public static S.KeyValue StoreKv(int n) => new()
    {
        Key = B($"key{n}"),
        CreateRevision = 100 + n,
        ModRevision = 200 + n,
        Version = 300 + n,
        Value = B($"value{n}"),
        Lease = 400 + n,
    };

    public static Mvcc.KeyValue ProtoKv(int n) => new()
    {
        Key = P($"key{n}"),
        CreateRevision = 100 + n,
        ModRevision = 200 + n,
        Version = 300 + n,
        Value = P($"value{n}"),
        Lease = 400 + n,
    };

    /// <summary>The outer header as a member sends it.</summary>
    public static Pb.ResponseHeader Header(long revision) => new() { ClusterId = Ids.ClusterId, MemberId = Ids.MemberId, Revision = revision, RaftTerm = Ids.RaftTerm };

    /// <summary>A txn's inner header: etcd fills only the outer one.</summary>
    public static Pb.ResponseHeader Inner(long revision) => new() { Revision = revision };

    // ---- requests ----

    public static Sample RangeA() => new(
        "range A",
        new Pb.RangeRequest
        {
            Key = P("a"),
            RangeEnd = P("z"),
            Limit = 3,
            Revision = 41,
            SortOrder = Pb.RangeRequest.Types.SortOrder.Descend,
            SortTarget = Pb.RangeRequest.Types.SortTarget.Mod,
            Serializable = true,
            KeysOnly = false,
            CountOnly = true,
            MinModRevision = 11,
            MaxModRevision = 12,
            MinCreateRevision = 13,
            MaxCreateRevision = 14,
        },
        new S.RangeRequest
        {
            Key = B("a"),
            RangeEnd = B("z"),
            Limit = 3,
            Revision = 41,
            SortOrder = S.SortOrder.Descend,
            SortTarget = S.SortTarget.Mod,
            Serializable = true,
            KeysOnly = false,
            CountOnly = true,
            MinModRevision = 11,
            MaxModRevision = 12,
            MinCreateRevision = 13,
            MaxCreateRevision = 14,
        });

    public static Sample RangeB() => new(
        "range B",
        new Pb.RangeRequest
        {
            Key = P("b"),
            Limit = 7,
            SortOrder = Pb.RangeRequest.Types.SortOrder.Ascend,
            SortTarget = Pb.RangeRequest.Types.SortTarget.Value,
            Serializable = false,
            KeysOnly = true,
            CountOnly = true,
        },
        new S.RangeRequest
        {
            Key = B("b"),
            Limit = 7,
            SortOrder = S.SortOrder.Ascend,
            SortTarget = S.SortTarget.Value,
            Serializable = false,
            KeysOnly = true,
            CountOnly = true,
        });

    public static Sample PutA() => new(
        "put A",
        new Pb.PutRequest { Key = P("k"), Value = P("v"), Lease = 77, PrevKv = true, IgnoreValue = false, IgnoreLease = true },
        new S.PutRequest { Key = B("k"), Value = B("v"), Lease = 77, PrevKv = true, IgnoreValue = false, IgnoreLease = true });

    public static Sample PutB() => new(
        "put B",
        new Pb.PutRequest { Key = P("k2"), Value = P("v2"), Lease = 78, PrevKv = false, IgnoreValue = true, IgnoreLease = true },
        new S.PutRequest { Key = B("k2"), Value = B("v2"), Lease = 78, PrevKv = false, IgnoreValue = true, IgnoreLease = true });

    public static Sample Delete() => new(
        "delete",
        new Pb.DeleteRangeRequest { Key = P("d"), RangeEnd = P("e"), PrevKv = true },
        new S.DeleteRangeRequest { Key = B("d"), RangeEnd = B("e"), PrevKv = true });

    public static Sample Compaction() => new(
        "compaction",
        new Pb.CompactionRequest { Revision = 99, Physical = true },
        new S.CompactionRequest { Revision = 99, Physical = true });

    public static Sample LeaseGrant() => new(
        "lease grant",
        new Pb.LeaseGrantRequest { TTL = 30, ID = 0x1234 },
        new S.LeaseGrantRequest { TtlSeconds = 30, Id = 0x1234 });

    public static Sample LeaseRevoke() => new(
        "lease revoke",
        new Pb.LeaseRevokeRequest { ID = 0x5678 },
        new S.LeaseRevokeRequest { Id = 0x5678 });

    public static Sample LeaseCheckpoint()
    {
        var proto = new Pb.LeaseCheckpointRequest();
        proto.Checkpoints.Add(new Pb.LeaseCheckpoint { ID = 5, RemainingTTL = 50 });
        proto.Checkpoints.Add(new Pb.LeaseCheckpoint { ID = 6, RemainingTTL = 0 });
        proto.Checkpoints.Add(new Pb.LeaseCheckpoint { ID = 7, RemainingTTL = 70 });
        return new("lease checkpoint", proto, new S.LeaseCheckpointRequest { Checkpoints = [new(5, 50), new(6, 0), new(7, 70)] });
    }

    /// <summary>One compare per target, each with its own operand, result and (for some) a range end.</summary>
    public static IReadOnlyList<(Pb.Compare Proto, S.Compare Store)> Compares() =>
    [
        (new Pb.Compare { Result = Pb.Compare.Types.CompareResult.Equal, Target = Pb.Compare.Types.CompareTarget.Version, Key = P("c1"), Version = 5 },
            new S.Compare { Result = S.CompareResult.Equal, Target = S.CompareTarget.Version, Key = B("c1"), Version = 5 }),
        (new Pb.Compare { Result = Pb.Compare.Types.CompareResult.Greater, Target = Pb.Compare.Types.CompareTarget.Create, Key = P("c2"), RangeEnd = P("c3"), CreateRevision = 6 },
            new S.Compare { Result = S.CompareResult.Greater, Target = S.CompareTarget.Create, Key = B("c2"), RangeEnd = B("c3"), CreateRevision = 6 }),
        (new Pb.Compare { Result = Pb.Compare.Types.CompareResult.Less, Target = Pb.Compare.Types.CompareTarget.Mod, Key = P("c3"), ModRevision = 7 },
            new S.Compare { Result = S.CompareResult.Less, Target = S.CompareTarget.Mod, Key = B("c3"), ModRevision = 7 }),
        (new Pb.Compare { Result = Pb.Compare.Types.CompareResult.NotEqual, Target = Pb.Compare.Types.CompareTarget.Value, Key = P("c4"), RangeEnd = P("\0"), Value = P("val") },
            new S.Compare { Result = S.CompareResult.NotEqual, Target = S.CompareTarget.Value, Key = B("c4"), RangeEnd = [0], Value = B("val") }),
        (new Pb.Compare { Result = Pb.Compare.Types.CompareResult.Equal, Target = Pb.Compare.Types.CompareTarget.Lease, Key = P("c5"), Lease = 8 },
            new S.Compare { Result = S.CompareResult.Equal, Target = S.CompareTarget.Lease, Key = B("c5"), Lease = 8 }),
    ];

    /// <summary>A txn with every compare, every kind of op in both branches, an empty op, and a nested txn that has a
    /// nested txn of its own.</summary>
    public static Sample Txn()
    {
        var compares = Compares();
        var innermost = new Pb.TxnRequest();
        innermost.Compare.Add(compares[4].Proto);
        innermost.Failure.Add(new Pb.RequestOp { RequestPut = (Pb.PutRequest)PutB().Proto });
        var inner = new Pb.TxnRequest();
        inner.Compare.Add(compares[0].Proto);
        inner.Success.Add(new Pb.RequestOp { RequestRange = (Pb.RangeRequest)RangeB().Proto });
        inner.Success.Add(new Pb.RequestOp { RequestTxn = innermost });
        inner.Failure.Add(new Pb.RequestOp { RequestDeleteRange = (Pb.DeleteRangeRequest)Delete().Proto });
        var proto = new Pb.TxnRequest();
        proto.Compare.AddRange(compares.Select(c => c.Proto));
        proto.Success.Add(new Pb.RequestOp { RequestRange = (Pb.RangeRequest)RangeA().Proto });
        proto.Success.Add(new Pb.RequestOp { RequestPut = (Pb.PutRequest)PutA().Proto });
        proto.Success.Add(new Pb.RequestOp { RequestDeleteRange = (Pb.DeleteRangeRequest)Delete().Proto });
        proto.Success.Add(new Pb.RequestOp { RequestTxn = inner });
        proto.Failure.Add(new Pb.RequestOp { RequestPut = (Pb.PutRequest)PutB().Proto });
        proto.Failure.Add(new Pb.RequestOp());

        var store = new S.TxnRequest
        {
            Compare = [.. compares.Select(c => c.Store)],
            Success =
            [
                (S.RangeRequest)RangeA().Store,
                (S.PutRequest)PutA().Store,
                (S.DeleteRangeRequest)Delete().Store,
                new S.TxnRequest
                {
                    Compare = [compares[0].Store],
                    Success =
                    [
                        (S.RangeRequest)RangeB().Store,
                        new S.TxnRequest { Compare = [compares[4].Store], Failure = [(S.PutRequest)PutB().Store] },
                    ],
                    Failure = [(S.DeleteRangeRequest)Delete().Store],
                },
            ],
            Failure = [(S.PutRequest)PutB().Store, S.RequestOp.Empty],
        };
        return new("txn", proto, store);
    }

    public static IEnumerable<Sample> Requests() =>
        [RangeA(), RangeB(), PutA(), PutB(), Delete(), Txn(), Compaction(), LeaseGrant(), LeaseRevoke(), LeaseCheckpoint(), AlarmActivate(), .. AuthRequests()];

    public static Sample AlarmActivate() => new(
        "alarm activate",
        new Pb.AlarmRequest { Action = Pb.AlarmRequest.Types.AlarmAction.Activate, MemberID = 0x8e9e05c52164694d, Alarm = Pb.AlarmType.Nospace },
        new S.AlarmRequest { Action = S.AlarmAction.Activate, MemberId = 0x8e9e05c52164694d, Alarm = S.AlarmType.NoSpace });

    public static Sample AlarmResponse()
    {
        var proto = new Pb.AlarmResponse { Header = Header(69) };
        proto.Alarms.Add(new Pb.AlarmMember { MemberID = 7, Alarm = Pb.AlarmType.Nospace });
        proto.Alarms.Add(new Pb.AlarmMember { MemberID = 9, Alarm = Pb.AlarmType.Corrupt });
        return new("alarm response", proto, new S.AlarmResponse { Header = new(69), Alarms = [new(7, S.AlarmType.NoSpace), new(9, S.AlarmType.Corrupt)] });
    }

    /// <summary>Every auth request that travels as its etcd message (all but Authenticate); passwords only as hashes.</summary>
    public static IEnumerable<Sample> AuthRequests() =>
    [
        new("auth enable", new Pb.AuthEnableRequest(), new S.AuthEnableRequest()),
        new("auth disable", new Pb.AuthDisableRequest(), new S.AuthDisableRequest()),
        new("auth status", new Pb.AuthStatusRequest(), new S.AuthStatusRequest()),
        new("user add", new Pb.AuthUserAddRequest { Name = "u1", HashedPassword = "pbkdf2-sha256$1$c2FsdA==$aGFzaA==" }, new S.UserAddRequest { Name = "u1", PasswordHash = "pbkdf2-sha256$1$c2FsdA==$aGFzaA==" }),
        new("user add, no password", new Pb.AuthUserAddRequest { Name = "u2", Options = new AuthPb.UserAddOptions { NoPassword = true } }, new S.UserAddRequest { Name = "u2", NoPassword = true }),
        new("user get", new Pb.AuthUserGetRequest { Name = "u3" }, new S.UserGetRequest { Name = "u3" }),
        new("user list", new Pb.AuthUserListRequest(), new S.UserListRequest()),
        new("user delete", new Pb.AuthUserDeleteRequest { Name = "u4" }, new S.UserDeleteRequest { Name = "u4" }),
        new("user change password", new Pb.AuthUserChangePasswordRequest { Name = "u5", HashedPassword = "h5" }, new S.UserChangePasswordRequest { Name = "u5", PasswordHash = "h5" }),
        new("user grant role", new Pb.AuthUserGrantRoleRequest { User = "u6", Role = "r6" }, new S.UserGrantRoleRequest { User = "u6", Role = "r6" }),
        new("user revoke role", new Pb.AuthUserRevokeRoleRequest { Name = "u7", Role = "r7" }, new S.UserRevokeRoleRequest { Name = "u7", Role = "r7" }),
        new("role add", new Pb.AuthRoleAddRequest { Name = "r8" }, new S.RoleAddRequest { Name = "r8" }),
        new("role get", new Pb.AuthRoleGetRequest { Role = "r9" }, new S.RoleGetRequest { Role = "r9" }),
        new("role list", new Pb.AuthRoleListRequest(), new S.RoleListRequest()),
        new("role delete", new Pb.AuthRoleDeleteRequest { Role = "r10" }, new S.RoleDeleteRequest { Role = "r10" }),
        new("role grant permission",
            new Pb.AuthRoleGrantPermissionRequest { Name = "r11", Perm = new AuthPb.Permission { PermType = AuthPb.Permission.Types.Type.Readwrite, Key = P("p/"), RangeEnd = P("p0") } },
            new S.RoleGrantPermissionRequest { Name = "r11", Permission = new S.AuthPermission(S.PermissionType.ReadWrite, B("p/"), B("p0")) }),
        new("role grant no permission", new Pb.AuthRoleGrantPermissionRequest { Name = "r12" }, new S.RoleGrantPermissionRequest { Name = "r12" }),
        new("role revoke permission", new Pb.AuthRoleRevokePermissionRequest { Role = "r13", Key = P("q"), RangeEnd = P("\0") }, new S.RoleRevokePermissionRequest { Role = "r13", Key = B("q"), RangeEnd = [0] }),
    ];

    /// <summary>Requests with no etcd message of their own in the log (Authenticate) and requests made on behalf of a
    /// requester, which travel with its identity.</summary>
    public static IEnumerable<(string Name, S.EtcdRequest Request)> StoreOnlyRequests() =>
    [
        ("authenticate", new S.AuthenticateRequest { Name = "alice", SimpleTokenPrefix = "abcdefghijklmnop", CheckedRevision = 17 }),
        ("authenticate for a JWT", new S.AuthenticateRequest { Name = "bob", CheckedRevision = 1 }),
        ("put as alice", (S.PutRequest)PutA().Store with { Auth = new S.RequestAuth("alice", 12) }),
        ("user add as root", (S.UserAddRequest)AuthRequests().First(a => a.Name == "user add").Store with { Auth = new S.RequestAuth("root", 3) }),
        ("authenticate with a stale token", new S.AuthenticateRequest { Name = "carol", CheckedRevision = 2, Auth = new S.RequestAuth("carol", 1) }),
        ("revoke by the members", new S.LeaseRevokeRequest { Id = 9, Auth = S.RequestAuth.Member }),
    ];

    /// <summary>Every kind of auth answer (they have no etcd message of their own: several RPCs share each).</summary>
    public static IEnumerable<S.EtcdResponse> AuthResults() =>
    [
        new S.AuthChangeResponse { Header = new(80) },
        new S.AuthStatusResponse { Header = new(81), Enabled = true, AuthRevision = 44 },
        new S.AuthStatusResponse { Header = new(82), Enabled = false, AuthRevision = 1 },
        new S.AuthenticateResponse { Header = new(83), User = "alice", AuthRevision = 45, Token = "abcdefghijklmnop.99" },
        new S.AuthNamesResponse { Header = new(84), Names = ["a", "b", "root"] },
        new S.AuthNamesResponse { Header = new(85) },
        new S.RoleGetResponse { Header = new(86), Permissions = [new S.AuthPermission(S.PermissionType.Read, B("a"), []), new S.AuthPermission(S.PermissionType.Write, B("b"), [0])] },
    ];

    // ---- responses (outer headers carry Ids) ----

    public static Sample RangeResponse()
    {
        var proto = new Pb.RangeResponse { Header = Header(50), More = true, Count = 9 };
        proto.Kvs.Add(ProtoKv(1));
        proto.Kvs.Add(ProtoKv(2));
        return new("range response", proto, new S.RangeResponse { Header = new(50), Kvs = [StoreKv(1), StoreKv(2)], More = true, Count = 9 });
    }

    public static Sample PutResponse() => new(
        "put response",
        new Pb.PutResponse { Header = Header(51), PrevKv = ProtoKv(3) },
        new S.PutResponse { Header = new(51), PrevKv = StoreKv(3) });

    public static Sample PutResponseWithoutPrevKv() => new(
        "put response without prev_kv",
        new Pb.PutResponse { Header = Header(52) },
        new S.PutResponse { Header = new(52) });

    public static Sample DeleteResponse()
    {
        var proto = new Pb.DeleteRangeResponse { Header = Header(53), Deleted = 4 };
        proto.PrevKvs.Add(ProtoKv(4));
        proto.PrevKvs.Add(ProtoKv(5));
        return new("delete response", proto, new S.DeleteRangeResponse { Header = new(53), Deleted = 4, PrevKvs = [StoreKv(4), StoreKv(5)] });
    }

    /// <summary>A txn answer with every kind of op response and a nested txn answer (header revision 0, as the
    /// store gives it) that holds another range answer.</summary>
    public static Sample TxnResponse()
    {
        var innerRange = new Pb.RangeResponse { Header = Inner(60), Count = 1 };
        innerRange.Kvs.Add(ProtoKv(7));
        var inner = new Pb.TxnResponse { Header = Inner(0), Succeeded = false };
        inner.Responses.Add(new Pb.ResponseOp { ResponseRange = innerRange });
        var range = new Pb.RangeResponse { Header = Inner(60), More = true, Count = 2 };
        range.Kvs.Add(ProtoKv(6));
        var delete = new Pb.DeleteRangeResponse { Header = Inner(61), Deleted = 1 };
        delete.PrevKvs.Add(ProtoKv(8));
        var proto = new Pb.TxnResponse { Header = Header(61), Succeeded = true };
        proto.Responses.Add(new Pb.ResponseOp { ResponseRange = range });
        proto.Responses.Add(new Pb.ResponseOp { ResponsePut = new Pb.PutResponse { Header = Inner(61), PrevKv = ProtoKv(9) } });
        proto.Responses.Add(new Pb.ResponseOp { ResponseDeleteRange = delete });
        proto.Responses.Add(new Pb.ResponseOp { ResponseTxn = inner });

        var store = new S.TxnResponse
        {
            Header = new(61),
            Succeeded = true,
            Responses =
            [
                new S.ResponseOp(new S.RangeResponse { Header = new(60), Kvs = [StoreKv(6)], More = true, Count = 2 }),
                new S.ResponseOp(new S.PutResponse { Header = new(61), PrevKv = StoreKv(9) }),
                new S.ResponseOp(new S.DeleteRangeResponse { Header = new(61), Deleted = 1, PrevKvs = [StoreKv(8)] }),
                new S.ResponseOp(new S.TxnResponse
                {
                    Header = new(0),
                    Succeeded = false,
                    Responses = [new S.ResponseOp(new S.RangeResponse { Header = new(60), Kvs = [StoreKv(7)], Count = 1 })],
                }),
            ],
        };
        return new("txn response", proto, store);
    }

    public static Sample CompactionResponse() => new(
        "compaction response",
        new Pb.CompactionResponse { Header = Header(62) },
        new S.CompactionResponse { Header = new(62) });

    public static Sample LeaseGrantResponse() => new(
        "lease grant response",
        new Pb.LeaseGrantResponse { Header = Header(63), ID = 0x99, TTL = 45, Error = "some error" },
        new S.LeaseGrantResponse { Header = new(63), Id = 0x99, TtlSeconds = 45, Error = "some error" });

    public static Sample LeaseRevokeResponse() => new(
        "lease revoke response",
        new Pb.LeaseRevokeResponse { Header = Header(64) },
        new S.LeaseRevokeResponse { Header = new(64) });

    public static Sample LeaseCheckpointResponse() => new(
        "lease checkpoint response",
        new Pb.LeaseCheckpointResponse { Header = Header(65) },
        new S.LeaseCheckpointResponse { Header = new(65) });

    public static Sample LeaseKeepAliveResponse() => new(
        "lease keep-alive response",
        new Pb.LeaseKeepAliveResponse { Header = Header(66), ID = 0x77, TTL = 12 },
        new S.LeaseKeepAliveResponse { Header = new(66), Id = 0x77, TtlSeconds = 12 });

    public static Sample LeaseTimeToLiveResponse()
    {
        var proto = new Pb.LeaseTimeToLiveResponse { Header = Header(67), ID = 0x66, TTL = 8, GrantedTTL = 10 };
        proto.Keys.Add(P("lk1"));
        proto.Keys.Add(P("lk2"));
        return new("lease time-to-live response", proto, new S.LeaseTimeToLiveResponse
        {
            Header = new(67),
            Id = 0x66,
            TtlSeconds = 8,
            GrantedTtlSeconds = 10,
            Keys = [B("lk1"), B("lk2")],
        });
    }

    /// <summary>etcd's LeaseStatus has only the id, so the store side has TTLs of 0 here.</summary>
    public static Sample LeaseLeasesResponse()
    {
        var proto = new Pb.LeaseLeasesResponse { Header = Header(68) };
        proto.Leases.Add(new Pb.LeaseStatus { ID = 0x55 });
        proto.Leases.Add(new Pb.LeaseStatus { ID = 0x56 });
        return new("lease leases response", proto, new S.LeaseLeasesResponse { Header = new(68), Leases = [new(0x55, 0, 0), new(0x56, 0, 0)] });
    }

    public static IEnumerable<Sample> Responses() =>
    [
        RangeResponse(), PutResponse(), PutResponseWithoutPrevKv(), DeleteResponse(), TxnResponse(), CompactionResponse(),
        LeaseGrantResponse(), LeaseRevokeResponse(), LeaseCheckpointResponse(), LeaseKeepAliveResponse(), LeaseTimeToLiveResponse(),
        LeaseLeasesResponse(), AlarmResponse(),
    ];
}
