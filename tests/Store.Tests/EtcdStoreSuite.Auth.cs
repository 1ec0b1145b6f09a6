using CurpStore.Curp;

namespace CurpStore.Store.Tests;

/// <summary>
/// Auth: users, roles and permissions with etcd 3.5's errors and revision rules, enable/disable, authentication
/// records, and the permission checks every request gets when auth is on (reads, writes, txn branches, leases, admin
/// requests), on apply, speculation and reads alike; the auth store survives restarts and travels in snapshots.
/// Error texts and codes are etcd's rpctypes; the doubtful cases were checked against Debian's etcd 3.4.23.
/// </summary>
public abstract partial class EtcdStoreSuite
{
    /// <summary>root (root role), alice with role "reader-writer": read on the prefix "r/", read-write on [rw/a, rw/m),
    /// write on the single key "w", read from "z" on; bob with no role. Auth enabled.</summary>
    private StoreDriver AuthFixture()
    {
        var store = NewStore();
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "root", PasswordHash = "h-root" });
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "root", Role = "root" });
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "alice", PasswordHash = "h-alice" });
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "bob", PasswordHash = "h-bob" });
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "reader-writer" });
        Grant(store, "reader-writer", PermissionType.Read, "r/", "r0");
        Grant(store, "reader-writer", PermissionType.ReadWrite, "rw/a", "rw/m");
        Grant(store, "reader-writer", PermissionType.Write, "w", "");
        Grant(store, "reader-writer", PermissionType.Read, "z", "\0");
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "alice", Role = "reader-writer" });
        store.Ok<AuthChangeResponse>(new AuthEnableRequest());
        return store;
    }

    private static void Grant(StoreDriver store, string role, PermissionType type, string key, string rangeEnd) =>
        store.Ok<AuthChangeResponse>(new RoleGrantPermissionRequest { Name = role, Permission = new AuthPermission(type, B(key), B(rangeEnd)) });

    private static RequestAuth As(StoreDriver store, string user) => new(user, store.Machine.Auth.Revision);

    private static void AssertError(EtcdError expected, ICommandResult actual, string because = "") =>
        Assert.AreSame(expected, actual, $"{because} got {EtcdResultText.Render(actual)}");

    [TestMethod]
    public void FreshStore_AuthIsDisabled_AtRevisionOne_AndEverythingIsAllowed()
    {
        var store = NewStore();
        var status = store.Ok<AuthStatusResponse>(new AuthStatusRequest());
        Assert.AreEqual((false, 1L), (status.Enabled, status.AuthRevision));
        store.Put("k", "v");
        Assert.AreEqual(1, store.Range(new RangeRequest { Key = B("k"), Auth = new RequestAuth("nobody", 0) }).Count);
    }

    [TestMethod]
    public void AuthEnable_NeedsTheRootUser_WithTheRootRole_AndKeepsTheRevision()
    {
        // Checked against etcd: both errors are FailedPrecondition; etcdctl then adds the root role and retries.
        var store = NewStore();
        var noUser = store.Fail(new AuthEnableRequest());
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not exist"), (noUser.Code, noUser.Message));
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "root", PasswordHash = "h" });
        var noRole = store.Fail(new AuthEnableRequest());
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not have root role"), (noRole.Code, noRole.Message));
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "root", Role = "root" }); // no root role entry needed
        var before = store.Machine.Auth.Revision;
        store.Ok<AuthChangeResponse>(new AuthEnableRequest());
        Assert.AreEqual((true, before), (store.Machine.Auth.Enabled, store.Machine.Auth.Revision));
        store.Ok<AuthChangeResponse>(new AuthEnableRequest { Auth = As(store, "root") }); // again: ignored
        Assert.AreEqual(before, store.Machine.Auth.Revision);
    }

    [TestMethod]
    public void EveryChange_MovesTheAuthRevisionByOne_AndNoOpsDoNot()
    {
        var store = NewStore();
        long Revision() => store.Machine.Auth.Revision;
        var changes = new EtcdRequest[]
        {
            new UserAddRequest { Name = "u", PasswordHash = "h" },
            new RoleAddRequest { Name = "r" },
            new RoleGrantPermissionRequest { Name = "r", Permission = new AuthPermission(PermissionType.Read, B("a"), []) },
            new RoleGrantPermissionRequest { Name = "r", Permission = new AuthPermission(PermissionType.Write, B("a"), []) }, // an update counts
            new UserGrantRoleRequest { User = "u", Role = "r" },
            new UserChangePasswordRequest { Name = "u", PasswordHash = "h2" },
            new RoleRevokePermissionRequest { Role = "r", Key = B("a") },
            new UserRevokeRoleRequest { Name = "u", Role = "r" },
            new RoleDeleteRequest { Role = "r" },
            new UserDeleteRequest { Name = "u" },
        };
        foreach (var change in changes)
        {
            var before = Revision();
            store.Ok<AuthChangeResponse>(change);
            Assert.AreEqual(before + 1, Revision(), change.ToString());
        }
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "u", PasswordHash = "h" });
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "r" });
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "u", Role = "r" });
        var unchanged = Revision();
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "u", Role = "r" }); // already granted
        store.Ok<AuthChangeResponse>(new AuthDisableRequest()); // already disabled
        store.Ok<AuthStatusResponse>(new AuthStatusRequest());
        store.Fail(new UserAddRequest { Name = "u", PasswordHash = "h" });
        Assert.AreEqual(unchanged, Revision());
        Assert.AreEqual(1, store.Machine.Revision, "auth changes do not move the key-value revision");
    }

    [TestMethod]
    public void Users_AddGetListDelete_WithEtcdsErrors()
    {
        // Checked against etcd (etcdctl user add/get/delete): messages and FailedPrecondition / InvalidArgument codes.
        var store = NewStore();
        store.Put("k", "v");
        var added = store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "carol", PasswordHash = "h" });
        Assert.AreEqual(2, added.Header.Revision, "auth answers carry the key-value revision");
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "alice", PasswordHash = "h" });
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "nopass", NoPassword = true, PasswordHash = "ignored" });
        var exists = store.Fail(new UserAddRequest { Name = "alice", PasswordHash = "h" });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: user name already exists"), (exists.Code, exists.Message));
        var empty = store.Fail(new UserAddRequest { Name = "", PasswordHash = "h" });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: user name is empty"), (empty.Code, empty.Message));
        CollectionAssert.AreEqual(new[] { "alice", "carol", "nopass" }, store.Ok<AuthNamesResponse>(new UserListRequest()).Names.ToArray());
        Assert.AreEqual(0, store.Ok<AuthNamesResponse>(new UserGetRequest { Name = "carol" }).Names.Count);
        Assert.AreEqual("", store.Machine.Auth.FindUser("nopass")!.PasswordHash, "a no-password user keeps no hash");
        var missing = store.Fail(new UserGetRequest { Name = "zed" });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: user name not found"), (missing.Code, missing.Message));
        AssertError(EtcdError.UserNotFound, store.Apply(new UserDeleteRequest { Name = "zed" }));
        AssertError(EtcdError.UserNotFound, store.Apply(new UserChangePasswordRequest { Name = "zed", PasswordHash = "h" }));
        store.Ok<AuthChangeResponse>(new UserChangePasswordRequest { Name = "carol", PasswordHash = "h2" });
        Assert.AreEqual("h2", store.Machine.Auth.FindUser("carol")!.PasswordHash);
        store.Ok<AuthChangeResponse>(new UserDeleteRequest { Name = "carol" });
        CollectionAssert.AreEqual(new[] { "alice", "nopass" }, store.Ok<AuthNamesResponse>(new UserListRequest()).Names.ToArray());
    }

    [TestMethod]
    public void Roles_GrantAndRevoke_WithEtcdsErrors_AndRolesStaySorted()
    {
        var store = NewStore();
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "u", PasswordHash = "h" });
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "zeta" });
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "alpha" });
        var exists = store.Fail(new RoleAddRequest { Name = "alpha" });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: role name already exists"), (exists.Code, exists.Message));
        var empty = store.Fail(new RoleAddRequest { Name = "" });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: role name is empty"), (empty.Code, empty.Message));
        var noRole = store.Fail(new UserGrantRoleRequest { User = "u", Role = "nosuch" });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: role name not found"), (noRole.Code, noRole.Message));
        AssertError(EtcdError.UserNotFound, store.Apply(new UserGrantRoleRequest { User = "nosuch", Role = "alpha" }));
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "u", Role = "zeta" });
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "u", Role = "alpha" });
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "u", Role = "root" });
        CollectionAssert.AreEqual(new[] { "alpha", "root", "zeta" }, store.Ok<AuthNamesResponse>(new UserGetRequest { Name = "u" }).Names.ToArray());
        CollectionAssert.AreEqual(new[] { "alpha", "zeta" }, store.Ok<AuthNamesResponse>(new RoleListRequest()).Names.ToArray(), "the root role has no entry until added");
        var notGranted = store.Fail(new UserRevokeRoleRequest { Name = "u", Role = "nosuch" });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: role is not granted to the user"), (notGranted.Code, notGranted.Message));
        store.Ok<AuthChangeResponse>(new UserRevokeRoleRequest { Name = "u", Role = "alpha" });
        CollectionAssert.AreEqual(new[] { "root", "zeta" }, store.Ok<AuthNamesResponse>(new UserGetRequest { Name = "u" }).Names.ToArray());
        AssertError(EtcdError.RoleNotFound, store.Apply(new RoleGetRequest { Role = "nosuch" }));
        AssertError(EtcdError.RoleNotFound, store.Apply(new RoleDeleteRequest { Role = "nosuch" }));
    }

    [TestMethod]
    public void DeletingARole_TakesItAwayFromEveryUser()
    {
        var store = AuthFixture();
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "bob", Role = "reader-writer", Auth = As(store, "root") });
        store.Ok<AuthChangeResponse>(new RoleDeleteRequest { Role = "reader-writer", Auth = As(store, "root") });
        Assert.AreEqual(0, store.Machine.Auth.FindUser("alice")!.Roles.Length);
        Assert.AreEqual(0, store.Machine.Auth.FindUser("bob")!.Roles.Length);
        AssertError(EtcdError.PermissionDenied, store.Machine.Read(new RangeRequest { Key = B("r/1"), Auth = As(store, "alice") }));
    }

    [TestMethod]
    public void Permissions_AreKeptInKeyOrder_UpdatedInPlace_AndRevokedByExactRange()
    {
        // Checked against etcd: "read k1", then "write k1" updates it; "read k1 k2" is another permission.
        var store = NewStore();
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "r" });
        Grant(store, "r", PermissionType.Read, "m", "");
        Grant(store, "r", PermissionType.Read, "k1", "");
        Grant(store, "r", PermissionType.Write, "k1", "");
        Grant(store, "r", PermissionType.Read, "k1", "k2");
        Grant(store, "r", PermissionType.ReadWrite, "a", "\0");
        string Show() => string.Join(", ", store.Ok<RoleGetResponse>(new RoleGetRequest { Role = "r" }).Permissions
            .Select(p => $"{p.Type} {StoreDriver.S(p.Key)}-{StoreDriver.S(p.RangeEnd).Replace("\0", "\\0", StringComparison.Ordinal)}"));
        Assert.AreEqual("ReadWrite a-\\0, Write k1-, Read k1-k2, Read m-", Show());
        var notGranted = store.Fail(new RoleRevokePermissionRequest { Role = "r", Key = B("zzz") });
        Assert.AreEqual((GrpcStatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role"), (notGranted.Code, notGranted.Message));
        store.Ok<AuthChangeResponse>(new RoleRevokePermissionRequest { Role = "r", Key = B("k1") });
        Assert.AreEqual("ReadWrite a-\\0, Read k1-k2, Read m-", Show());
        AssertError(EtcdError.RoleNotFound, store.Apply(new RoleRevokePermissionRequest { Role = "nosuch", Key = B("a") }));
        AssertError(EtcdError.RoleNotFound, store.Apply(new RoleGrantPermissionRequest { Name = "nosuch", Permission = new AuthPermission(PermissionType.Read, B("a"), []) }));
    }

    [TestMethod]
    [DataRow("", "")]
    [DataRow("b", "a")]
    [DataRow("a", "a")]
    public void GrantingAnInvalidRange_IsInvalidAuthManagement(string key, string rangeEnd)
    {
        // etcd 3.5 (isValidPermissionRange); etcd 3.4 stored such ranges, which never match anything.
        var store = NewStore();
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "r" });
        var error = store.Fail(new RoleGrantPermissionRequest { Name = "r", Permission = new AuthPermission(PermissionType.Read, B(key), B(rangeEnd)) });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: invalid auth management"), (error.Code, error.Message));
        var missing = store.Fail(new RoleGrantPermissionRequest { Name = "r" });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: permission not given"), (missing.Code, missing.Message));
    }

    [TestMethod]
    public void RootRole_ReadsAsEveryKey_AndRootCannotBeRemovedWhileAuthIsOn()
    {
        // Checked against etcd: deleting root, its role, or revoking root from root answer "invalid auth management".
        var store = AuthFixture();
        var root = As(store, "root");
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "root", Auth = root });
        var permissions = store.Ok<RoleGetResponse>(new RoleGetRequest { Role = "root", Auth = root }).Permissions;
        Assert.AreEqual(AuthPermission.Root, permissions.Single());
        root = As(store, "root");
        foreach (var request in new EtcdRequest[]
        {
            new UserDeleteRequest { Name = "root", Auth = root },
            new RoleDeleteRequest { Role = "root", Auth = root },
            new UserRevokeRoleRequest { Name = "root", Role = "root", Auth = root },
        })
        {
            var error = store.Fail(request);
            Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: invalid auth management"), (error.Code, error.Message), request.ToString());
        }
        store.Ok<AuthChangeResponse>(new AuthDisableRequest { Auth = root });
        store.Ok<AuthChangeResponse>(new UserRevokeRoleRequest { Name = "root", Role = "root" });
        store.Ok<AuthChangeResponse>(new UserDeleteRequest { Name = "root" });
    }

    [TestMethod]
    [DataRow("r/", "", true)]
    [DataRow("r/deep/key", "", true)]
    [DataRow("r/", "r0", true)]
    [DataRow("r/a", "r/z", true)]
    [DataRow("r/", "r1", false)]
    [DataRow("r", "", false)]
    [DataRow("rw/a", "rw/m", true)]
    [DataRow("rw/m", "", false)]
    [DataRow("w", "", false)]
    [DataRow("z", "", true)]
    [DataRow("zz", "\0", true)]
    [DataRow("y", "\0", false)]
    [DataRow("\0", "\0", false)]
    public void Range_NeedsReadOnTheWholeRange(string key, string rangeEnd, bool allowed)
    {
        // Checked against etcd: with read on [f1, open end) "get f1 --from-key" is allowed, "get f0 --from-key" denied.
        var store = AuthFixture();
        var answer = store.Machine.Read(new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd), Auth = As(store, "alice") });
        if (allowed)
        {
            StoreDriver.As<RangeResponse>(answer);
        }
        else
        {
            AssertError(EtcdError.PermissionDenied, answer);
            Assert.AreEqual(GrpcStatusCode.PermissionDenied, ((EtcdError)answer).Code);
        }
    }

    [TestMethod]
    public void ARange_IsCovered_ByAdjacentPermissions_ButNotAcrossAGap()
    {
        var store = AuthFixture();
        var root = As(store, "root");
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "pieces", Auth = root });
        foreach (var (from, to) in new[] { ("a", "c"), ("c", "e"), ("b", "d"), ("g", "h") })
        {
            store.Ok<AuthChangeResponse>(new RoleGrantPermissionRequest { Name = "pieces", Permission = new AuthPermission(PermissionType.Read, B(from), B(to)), Auth = root });
        }
        store.Ok<AuthChangeResponse>(new UserGrantRoleRequest { User = "bob", Role = "pieces", Auth = root });
        var bob = As(store, "bob");
        StoreDriver.As<RangeResponse>(store.Machine.Read(new RangeRequest { Key = B("a"), RangeEnd = B("e"), Auth = bob }));
        AssertError(EtcdError.PermissionDenied, store.Machine.Read(new RangeRequest { Key = B("a"), RangeEnd = B("h"), Auth = bob }), "e..g is not granted");
        AssertError(EtcdError.PermissionDenied, store.Machine.Read(new RangeRequest { Key = B("f"), Auth = bob }));
    }

    [TestMethod]
    public void PutAndDelete_NeedWrite_AndPrevKvNeedsReadToo()
    {
        var store = AuthFixture();
        var alice = As(store, "alice");
        store.Ok<PutResponse>(new PutRequest { Key = B("w"), Value = B("1"), Auth = alice });
        store.Ok<PutResponse>(new PutRequest { Key = B("rw/b"), Value = B("1"), Auth = alice, PrevKv = true });
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("w"), Value = B("2"), Auth = alice, PrevKv = true }), "write-only key with prev_kv");
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("r/1"), Value = B("1"), Auth = alice }), "read-only key");
        AssertError(EtcdError.PermissionDenied, store.Apply(new DeleteRangeRequest { Key = B("rw/a"), RangeEnd = B("rw/z"), Auth = alice }), "range beyond the permission");
        Assert.AreEqual(1, store.Ok<DeleteRangeResponse>(new DeleteRangeRequest { Key = B("rw/a"), RangeEnd = B("rw/m"), Auth = alice, PrevKv = true }).Deleted);
        AssertError(EtcdError.PermissionDenied, store.Apply(new DeleteRangeRequest { Key = B("w"), Auth = alice, PrevKv = true }));
        Assert.AreEqual(1, store.Ok<DeleteRangeResponse>(new DeleteRangeRequest { Key = B("w"), Auth = alice }).Deleted);
        store.Ok<PutResponse>(new PutRequest { Key = B("anything"), Value = B("1"), Auth = As(store, "root") });
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("w"), Value = B("1"), Auth = As(store, "bob") }), "bob has no role");
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("w"), Value = B("1"), Auth = As(store, "ghost") }), "unknown user");
    }

    [TestMethod]
    public void WithoutCredentials_RequestsFailUserNameIsEmpty_AndOldRevisionsAreRefused()
    {
        // Checked against etcd: "etcdctl get" and "put" without --user answer "etcdserver: user name is empty".
        var store = AuthFixture();
        var put = new PutRequest { Key = B("w"), Value = B("1") };
        var empty = store.Fail(put);
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: user name is empty"), (empty.Code, empty.Message));
        AssertError(EtcdError.UserEmpty, store.Machine.Read(new RangeRequest { Key = B("r/1") }));
        AssertError(EtcdError.UserEmpty, store.Apply(put with { Auth = new RequestAuth("alice", 0) }));
        var stale = new RequestAuth("alice", store.Machine.Auth.Revision);
        store.Ok<PutResponse>(put with { Auth = stale });
        store.Ok<AuthChangeResponse>(new RoleAddRequest { Name = "unrelated", Auth = As(store, "root") });
        var old = store.Fail(put with { Auth = stale });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: revision of auth store is old"), (old.Code, old.Message));
        store.Ok<PutResponse>(put with { Auth = As(store, "alice") });
    }

    [TestMethod]
    public void Checks_FollowTheRequestsOwnChecks_AsEtcdsGrpcLayerRunsThoseFirst()
    {
        var store = AuthFixture();
        AssertError(EtcdError.EmptyKey, store.Apply(new PutRequest { Key = [], Value = B("1") }));
        AssertError(EtcdError.EmptyKey, store.Machine.Read(new RangeRequest { Key = [] }));
        // A standalone put with an unknown lease is refused for permission before the lease is looked up.
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("r/1"), Value = B("1"), Lease = 99, Auth = As(store, "alice") }));
        AssertError(EtcdError.LeaseNotFound, store.Apply(new PutRequest { Key = B("w"), Value = B("1"), Lease = 99, Auth = As(store, "alice") }));
    }

    [TestMethod]
    public void Txn_NeedsReadOnCompares_AndPermissionForBothBranches_NestedTxnsIncluded()
    {
        var store = AuthFixture();
        var alice = As(store, "alice");
        RequestOp Put(string key) => new PutRequest { Key = B(key), Value = B("v") };
        var compareOnReadable = new Compare { Key = B("r/1"), Target = CompareTarget.Version, Result = CompareResult.Equal };
        store.Ok<TxnResponse>(new TxnRequest { Compare = [compareOnReadable], Success = [Put("w")], Failure = [Put("rw/b")], Auth = alice });
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Compare = [compareOnReadable with { Key = B("w") }], Success = [Put("w")], Auth = alice }), "compare on a write-only key");
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Compare = [compareOnReadable], Success = [Put("w")], Failure = [Put("r/1")], Auth = alice }), "the failure branch, though not taken");
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Success = [new RangeRequest { Key = B("w") }], Auth = alice }), "a range in a branch");
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Success = [new DeleteRangeRequest { Key = B("r/1") }], Auth = alice }), "a delete in a branch");
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Success = [new TxnRequest { Success = [Put("r/1")] }], Auth = alice }), "a nested txn's op");
        var readOnly = new TxnRequest { Success = [new RangeRequest { Key = B("z1") }], Auth = alice };
        StoreDriver.As<TxnResponse>(store.Machine.Read(readOnly));
        AssertError(EtcdError.PermissionDenied, store.Machine.Read(readOnly with { Success = [new RangeRequest { Key = B("a") }] }));
    }

    [TestMethod]
    public void Leases_GrantIsFree_AttachAndRevokeNeedWriteOnEveryAttachedKey()
    {
        // Checked against etcd: alice may attach her key to a lease only if she may write every key already on it,
        // and revoke it likewise ("failed to revoke lease (etcdserver: permission denied)"); grants need no user.
        var store = AuthFixture();
        var alice = As(store, "alice");
        var root = As(store, "root");
        var shared = store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 1, TtlSeconds = 100 }).Id;
        store.Ok<PutResponse>(new PutRequest { Key = B("rw/b"), Value = B("1"), Lease = shared, Auth = alice });
        store.Ok<PutResponse>(new PutRequest { Key = B("secret"), Value = B("1"), Lease = shared, Auth = root });
        AssertError(EtcdError.PermissionDenied, store.Apply(new PutRequest { Key = B("rw/c"), Value = B("1"), Lease = shared, Auth = alice }));
        AssertError(EtcdError.PermissionDenied, store.Apply(new TxnRequest { Success = [new PutRequest { Key = B("rw/c"), Value = B("1"), Lease = shared }], Auth = alice }));
        AssertError(EtcdError.PermissionDenied, store.Apply(new LeaseRevokeRequest { Id = shared, Auth = alice }));
        var own = store.Ok<LeaseGrantResponse>(new LeaseGrantRequest { Id = 2, TtlSeconds = 100, Auth = alice }).Id;
        store.Ok<PutResponse>(new PutRequest { Key = B("rw/d"), Value = B("1"), Lease = own, Auth = alice });
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = own, Auth = alice });
        Assert.AreEqual(0, store.Range(new RangeRequest { Key = B("rw/d"), Auth = root }).Count);
        // etcd checks only the attached keys: a lease without keys may be revoked by anyone, an unknown one is not found.
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = store.Grant(100, id: 3) });
        AssertError(EtcdError.LeaseNotFound, store.Apply(new LeaseRevokeRequest { Id = 77 }));
        store.Ok<LeaseRevokeResponse>(new LeaseRevokeRequest { Id = shared, Auth = RequestAuth.Member });
    }

    [TestMethod]
    public void Compaction_NeedsNoPermission_AsInEtcd()
    {
        // Checked against etcd 3.4.23 with auth on: "etcdctl compact 2" without --user succeeds.
        var store = AuthFixture();
        store.Ok<PutResponse>(new PutRequest { Key = B("k"), Value = B("1"), Auth = As(store, "root") });
        store.Ok<PutResponse>(new PutRequest { Key = B("k"), Value = B("2"), Auth = As(store, "root") });
        store.Ok<CompactionResponse>(new CompactionRequest { Revision = 2 });
    }

    [TestMethod]
    public void AdminRequests_NeedTheRootRole_ButUsersMayReadThemselvesAndTheirRoles()
    {
        // Checked against etcd: alice's "user list" is denied, "user get alice" and "role get <her role>" allowed,
        // "user get root" and "role get root" denied; without --user "user name is empty".
        var store = AuthFixture();
        var alice = As(store, "alice");
        var admin = new EtcdRequest[]
        {
            new AuthDisableRequest(), new AuthEnableRequest(), new AuthStatusRequest(), new UserAddRequest { Name = "x", PasswordHash = "h" },
            new UserDeleteRequest { Name = "bob" }, new UserChangePasswordRequest { Name = "alice", PasswordHash = "h" },
            new UserGrantRoleRequest { User = "bob", Role = "reader-writer" }, new UserRevokeRoleRequest { Name = "alice", Role = "reader-writer" },
            new RoleAddRequest { Name = "x" }, new RoleDeleteRequest { Role = "reader-writer" }, new UserListRequest(), new RoleListRequest(),
            new RoleGrantPermissionRequest { Name = "reader-writer", Permission = new AuthPermission(PermissionType.Read, B("x"), []) },
            new RoleRevokePermissionRequest { Role = "reader-writer", Key = B("w") },
            new UserGetRequest { Name = "root" }, new RoleGetRequest { Role = "root" },
        };
        var revision = store.Machine.Auth.Revision;
        foreach (var request in admin)
        {
            AssertError(EtcdError.PermissionDenied, store.Apply(request with { Auth = alice }), request.ToString());
            AssertError(EtcdError.UserEmpty, store.Apply(request), request.ToString());
            AssertError(EtcdError.UserNotFound, store.Apply(request with { Auth = As(store, "ghost") }), request.ToString());
        }
        Assert.AreEqual(revision, store.Machine.Auth.Revision, "a refused request changed the auth store");
        CollectionAssert.AreEqual(new[] { "reader-writer" }, store.Ok<AuthNamesResponse>(new UserGetRequest { Name = "alice", Auth = alice }).Names.ToArray());
        Assert.AreEqual(4, store.Ok<RoleGetResponse>(new RoleGetRequest { Role = "reader-writer", Auth = alice }).Permissions.Count);
        var status = store.Ok<AuthStatusResponse>(new AuthStatusRequest { Auth = As(store, "root") });
        Assert.AreEqual((true, revision), (status.Enabled, status.AuthRevision));
    }

    [TestMethod]
    public void Authenticate_RecordsTheUserAndRevision_WithASimpleTokenFromTheLogIndex()
    {
        var store = NewStore();
        AssertError(EtcdError.AuthNotEnabled, store.Apply(new AuthenticateRequest { Name = "root", CheckedRevision = 1 }));
        Assert.AreEqual(GrpcStatusCode.FailedPrecondition, EtcdError.AuthNotEnabled.Code);
        store = AuthFixture();
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "np", NoPassword = true, Auth = As(store, "root") });
        var revision = store.Machine.Auth.Revision;
        var index = store.NextIndex;
        var simple = store.Ok<AuthenticateResponse>(new AuthenticateRequest { Name = "alice", SimpleTokenPrefix = "abcdefghijklmnop", CheckedRevision = revision });
        Assert.AreEqual(("alice", revision, $"abcdefghijklmnop.{index}"), (simple.User, simple.AuthRevision, simple.Token));
        Assert.AreEqual("", store.Ok<AuthenticateResponse>(new AuthenticateRequest { Name = "alice", CheckedRevision = revision }).Token, "no prefix: a JWT is made by the member");
        var failed = store.Fail(new AuthenticateRequest { Name = "ghost", CheckedRevision = revision });
        Assert.AreEqual((GrpcStatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password"), (failed.Code, failed.Message));
        AssertError(EtcdError.AuthFailed, store.Apply(new AuthenticateRequest { Name = "np", CheckedRevision = revision }));
        AssertError(EtcdError.AuthOldRevision, store.Apply(new AuthenticateRequest { Name = "alice", CheckedRevision = revision - 1 }), "checked before a change");
        Assert.AreEqual(revision, store.Machine.Auth.Revision, "authenticating changes nothing");
    }

    [TestMethod]
    public void Disabling_MovesTheRevision_AndLetsEveryoneIn()
    {
        var store = AuthFixture();
        var revision = store.Machine.Auth.Revision;
        store.Ok<AuthChangeResponse>(new AuthDisableRequest { Auth = As(store, "root") });
        Assert.AreEqual((false, revision + 1), (store.Machine.Auth.Enabled, store.Machine.Auth.Revision));
        store.Put("r/1", "anyone");
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "x", PasswordHash = "h" });
    }

    [TestMethod]
    public void ReadsAreCheckedAgainstTheAppliedAuthStore_AndSpeculationAgainstItsOwn()
    {
        // A revoke speculated before alice's put: the speculated answer is already "denied", as applying will say.
        var store = AuthFixture();
        var alice = As(store, "alice");
        var machine = store.Machine;
        var revoke = store.Command(new UserRevokeRoleRequest { Name = "alice", Role = "reader-writer", Auth = As(store, "root") });
        var put = store.Command(new PutRequest { Key = B("w"), Value = B("1"), Auth = alice with { AuthRevision = alice.AuthRevision + 1 } });
        var index = store.NextIndex;
        StoreDriver.As<AuthChangeResponse>(machine.Speculate(revoke, index));
        AssertError(EtcdError.PermissionDenied, machine.Speculate(put, index + 1));
        Assert.AreEqual(alice.AuthRevision, machine.Auth.Revision, "speculation changed the applied auth store");
        StoreDriver.As<RangeResponse>(machine.Read(new RangeRequest { Key = B("r/1"), Auth = alice }));
        machine.Apply(revoke, index);
        AssertError(EtcdError.PermissionDenied, machine.Apply(put, index + 1));
        AssertError(EtcdError.AuthOldRevision, machine.Read(new RangeRequest { Key = B("r/1"), Auth = alice }));
        Assert.AreEqual(0, machine.SpeculatedCount);
    }

    [TestMethod]
    public void AuthStore_SurvivesARestart_AndTravelsInSnapshots()
    {
        var store = AuthFixture();
        store.Ok<AuthChangeResponse>(new UserAddRequest { Name = "np", NoPassword = true, Auth = As(store, "root") });
        var before = Describe(store.Machine.Auth);
        var restarted = Restart(store);
        Assert.AreEqual(before, Describe(restarted.Machine.Auth));
        AssertError(EtcdError.PermissionDenied, restarted.Machine.Read(new RangeRequest { Key = B("w"), Auth = As(restarted, "alice") }));

        // The restarted store stands for the original from here on (a persistent engine closed the original).
        var other = NewStore();
        other.Machine.RestoreSnapshot(restarted.Machine.TakeSnapshot());
        Assert.AreEqual(before, Describe(other.Machine.Auth));
        Assert.AreEqual(restarted.Machine.StateDigest(), other.Machine.StateDigest());
        other.NextIndex = store.NextIndex;
        AssertError(EtcdError.UserEmpty, other.Apply(new PutRequest { Key = B("w"), Value = B("1") }));

        // Installing a snapshot without auth replaces the auth store too.
        other.Machine.RestoreSnapshot(NewStore().Machine.TakeSnapshot());
        Assert.AreEqual(Describe(AuthState.Initial), Describe(other.Machine.Auth));
    }

    [TestMethod]
    public void AuthChanges_ConflictWithEveryRequest_AndAuthReadsWithAuthChangesOnly()
    {
        var change = CommandKeyRanges.Of(new RoleGrantPermissionRequest { Name = "r" });
        Assert.AreEqual(CommandKeyRanges.AllKeys, change.Single());
        foreach (var read in new EtcdRequest[] { new AuthenticateRequest(), new UserGetRequest(), new RoleListRequest(), new AuthStatusRequest() })
        {
            var ranges = CommandKeyRanges.Of(read);
            Assert.IsTrue(ranges.All(r => r.Overlaps(CommandKeyRanges.AllKeys)), read.ToString());
            Assert.IsFalse(ranges.Any(r => r.Overlaps(KeyRange.Single(B("k")))), read.ToString());
        }
        Assert.IsFalse(new EtcdCommand(new ProposeId(1, 1), new UserGetRequest()).IsReadOnly, "auth requests go through the log, as in etcd 3.5");
    }

    [TestMethod]
    public void RandomCommandsWithAuth_SpeculateAsTheyApply()
    {
        var options = new EtcdStoreOptions { VerifySpeculation = true };
        for (var seed = 0; seed < 20; seed++)
        {
            var leader = NewStore(options);
            var follower = NewStore(options);
            var commands = new RandomCommands(seed, withAuth: true);
            var window = new Queue<(ulong Index, EtcdCommand Command, string Speculated)>();
            var (refused, allowed) = (0, 0);
            for (ulong index = 1; index <= 400; index++)
            {
                var command = leader.Command(commands.Next(leader.Machine.SpeculativeRevision));
                window.Enqueue((index, command, EtcdResultText.Render(leader.Machine.Speculate(command, index))));
                if (window.Count > (int)(index % 7) || index == 400)
                {
                    while (window.Count > 0)
                    {
                        var (at, pending, speculated) = window.Dequeue();
                        var checkedByAuth = leader.Machine.Auth.Enabled && pending.Request.Auth is { IsMember: false };
                        var result = leader.Machine.Apply(pending, at);
                        Assert.AreEqual(speculated, EtcdResultText.Render(result), $"seed {seed}: {pending} at {at}");
                        refused += result is EtcdError { Kind: EtcdErrorKind.PermissionDenied or EtcdErrorKind.AuthOldRevision or EtcdErrorKind.UserEmpty } ? 1 : 0;
                        allowed += checkedByAuth && result is EtcdResponse ? 1 : 0;
                        Assert.AreEqual(speculated, EtcdResultText.Render(follower.Machine.Apply(pending, at)), $"seed {seed}: follower {pending}");
                    }
                }
            }
            Assert.AreEqual(0, leader.Machine.SpeculationMismatches, $"seed {seed}");
            Assert.AreEqual(leader.Machine.StateDigest(), follower.Machine.StateDigest(), $"seed {seed}");
            Assert.IsTrue(refused > 0 && allowed > 0, $"seed {seed}: the commands never exercised both sides of the checks ({refused} refused, {allowed} allowed)");
            DisposeEngines();
        }
    }

    private static string Describe(AuthState auth) =>
        $"enabled={auth.Enabled} revision={auth.Revision} users=[{string.Join("; ", auth.Users.Values.Select(u => $"{u.Name}:{u.PasswordHash}:{u.NoPassword}:{string.Join(',', u.Roles)}"))}] "
        + $"roles=[{string.Join("; ", auth.Roles.Values.Select(r => $"{r.Name}:{string.Join(',', r.Permissions.Select(p => $"{p.Type}:{StoreDriver.S(p.Key)}-{Convert.ToHexString(p.RangeEnd)}"))}"))}]";
}
