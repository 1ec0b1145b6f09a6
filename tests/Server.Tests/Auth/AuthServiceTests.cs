using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Tests.Watch;
using AuthPb = CurpStore.Rpc.Etcd.AuthPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using PermType = CurpStore.Rpc.Etcd.AuthPb.Permission.Types.Type;

namespace CurpStore.Server.Tests.Auth;

/// <summary>
/// etcd's Auth service and the permission checks of every service, on an in-process member through the gRPC client:
/// enabling and disabling, users and roles, KV (ranges, puts, deletes, txn branches, compaction), Watch, Lease
/// (attaching, revoking, time-to-live keys, expiry), Maintenance and Cluster, invalid tokens. Codes and messages are
/// etcd's; the cases marked were checked against Debian's etcd 3.4.23.
/// </summary>
[TestClass]
public sealed class AuthServiceTests
{
    private const string Empty = "etcdserver: user name is empty";
    private const string Denied = "etcdserver: permission denied";

    /// <summary>One member with auth enabled; root and alice (with a role holding <paramref name="permissions"/>)
    /// logged in.</summary>
    private static async Task<(InProcessMembers Cluster, AuthClient Root, AuthClient Alice)> StartWithAliceAsync(params (PermType Type, string Key, string RangeEnd)[] permissions)
    {
        var cluster = await InProcessMembers.StartAsync(1);
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        await root.AddUserWithRoleAsync("alice", "pw", permissions);
        var alice = new AuthClient(cluster.Channels[0]);
        await alice.LoginAsync("alice", "pw");
        return (cluster, root, alice);
    }

    [TestMethod]
    public async Task AuthEnable_NeedsRootWithTheRootRole_AndThenEveryRequestNeedsAUser()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var client = new AuthClient(cluster.Channels[0]);
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.AuthEnable, new Pb.AuthEnableRequest()),
            GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not exist", "enable without root");
        await client.CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.AuthEnable, new Pb.AuthEnableRequest()),
            GrpcStatusCode.FailedPrecondition, "etcdserver: root user does not have root role", "enable without the root role");
        await AuthClient.AssertFailsAsync(() => client.LoginAsync("root", "rootpw"),
            GrpcStatusCode.FailedPrecondition, "etcdserver: authentication is not enabled", "authenticate while auth is off");
        await client.CallAsync(AuthMethods.UserGrantRole, new Pb.AuthUserGrantRoleRequest { User = "root", Role = "root" });
        var enabled = await client.CallAsync(AuthMethods.AuthEnable, new Pb.AuthEnableRequest());
        Assert.AreEqual(cluster.Members[0].MemberId, enabled.Header.MemberId);

        // Checked against etcd: without --user everything answers "user name is empty".
        await AuthClient.AssertFailsAsync(() => client.PutAsync("k", "v"), GrpcStatusCode.InvalidArgument, Empty, "put without a user");
        await AuthClient.AssertFailsAsync(() => client.GetAsync("k"), GrpcStatusCode.InvalidArgument, Empty, "range without a user");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest()), GrpcStatusCode.InvalidArgument, Empty, "status without a user");
        await AuthClient.AssertFailsAsync(() => client.LoginAsync("root", "wrong"),
            GrpcStatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password", "a wrong password");
        await AuthClient.AssertFailsAsync(() => client.LoginAsync("nobody", "x"),
            GrpcStatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password", "an unknown user");

        var token = await client.LoginAsync("root", "rootpw");
        StringAssert.Matches(token, new System.Text.RegularExpressions.Regex("^[a-zA-Z]{16}\\.[0-9]+$"), "etcd's simple token: 16 letters, a dot, the log index");
        await client.PutAsync("k", "v");
        var status = await client.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest());
        Assert.IsTrue(status.Enabled);
        Assert.IsTrue(status.AuthRevision >= 2, $"auth revision {status.AuthRevision}");

        await client.CallAsync(AuthMethods.AuthDisable, new Pb.AuthDisableRequest());
        client.Token = null;
        var disabled = await client.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest());
        Assert.AreEqual((false, status.AuthRevision + 1), (disabled.Enabled, disabled.AuthRevision));
        Assert.AreEqual("v", AuthClient.Text((await client.GetAsync("k")).Kvs.Single().Value));
    }

    [TestMethod]
    public async Task UsersAndRoles_ThroughTheService_WithEtcdsErrors()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var client = new AuthClient(cluster.Channels[0]);
        await client.EnableWithRootAsync();
        await client.AddUserWithRoleAsync("alice", "alicepw", (PermType.Read, "a/", "a0"), (PermType.Readwrite, "b", ""));
        await client.CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = "nopass", Options = new AuthPb.UserAddOptions { NoPassword = true } });

        var users = await client.CallAsync(AuthMethods.UserList, new Pb.AuthUserListRequest());
        CollectionAssert.AreEqual(new[] { "alice", "nopass", "root" }, users.Users.ToArray());
        CollectionAssert.AreEqual(new[] { "alice-role" }, (await client.CallAsync(AuthMethods.UserGet, new Pb.AuthUserGetRequest { Name = "alice" })).Roles.ToArray());
        CollectionAssert.AreEqual(new[] { "alice-role" }, (await client.CallAsync(AuthMethods.RoleList, new Pb.AuthRoleListRequest())).Roles.ToArray());
        var role = await client.CallAsync(AuthMethods.RoleGet, new Pb.AuthRoleGetRequest { Role = "alice-role" });
        Assert.AreEqual("a/-a0:Read, b-:Readwrite", string.Join(", ", role.Perm.Select(p => $"{AuthClient.Text(p.Key)}-{AuthClient.Text(p.RangeEnd)}:{p.PermType}")));

        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = "alice", Password = "x" }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: user name already exists", "a second alice");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.RoleAdd, new Pb.AuthRoleAddRequest { Name = "alice-role" }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: role name already exists", "a second role");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.RoleAdd, new Pb.AuthRoleAddRequest()),
            GrpcStatusCode.InvalidArgument, "etcdserver: role name is empty", "an empty role name");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.UserGet, new Pb.AuthUserGetRequest { Name = "zed" }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: user name not found", "an unknown user");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.UserGrantRole, new Pb.AuthUserGrantRoleRequest { User = "alice", Role = "zed" }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: role name not found", "an unknown role");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.UserRevokeRole, new Pb.AuthUserRevokeRoleRequest { Name = "alice", Role = "root" }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: role is not granted to the user", "a role alice lacks");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.RoleRevokePermission, new Pb.AuthRoleRevokePermissionRequest { Role = "alice-role", Key = AuthClient.Bytes("zzz") }),
            GrpcStatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role", "a permission the role lacks");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.RoleGrantPermission, new Pb.AuthRoleGrantPermissionRequest { Name = "alice-role" }),
            GrpcStatusCode.InvalidArgument, "etcdserver: permission not given", "no permission");
        await AuthClient.AssertFailsAsync(() => client.CallAsync(AuthMethods.UserDelete, new Pb.AuthUserDeleteRequest { Name = "root" }),
            GrpcStatusCode.InvalidArgument, "etcdserver: invalid auth management", "deleting root");

        // A no-password user cannot log in (etcd's own text, with code Unknown, checked against etcd).
        await AuthClient.AssertFailsAsync(() => new AuthClient(cluster.Channels[0]).LoginAsync("nopass", "x"),
            GrpcStatusCode.Unknown, "auth: authentication failed, password was given for no password user", "a no-password user");

        // Passwords change; the old one stops working.
        await client.CallAsync(AuthMethods.UserChangePassword, new Pb.AuthUserChangePasswordRequest { Name = "alice", Password = "newpw" });
        var alice = new AuthClient(cluster.Channels[0]);
        await AuthClient.FailsAsync(() => alice.LoginAsync("alice", "alicepw"), "the old password");
        await alice.LoginAsync("alice", "newpw");

        // Deleting the role takes it from alice.
        await client.CallAsync(AuthMethods.RoleDelete, new Pb.AuthRoleDeleteRequest { Role = "alice-role" });
        Assert.AreEqual(0, (await client.CallAsync(AuthMethods.UserGet, new Pb.AuthUserGetRequest { Name = "alice" })).Roles.Count);
    }

    [TestMethod]
    public async Task Kv_ChecksEveryRangeWriteAndTxnBranch_CompactionNeedsNothing()
    {
        var (cluster, root, alice) = await StartWithAliceAsync((PermType.Readwrite, "app/", "app0"), (PermType.Read, "shared/", "shared0"));
        await using var members = cluster;
        await root.PutAsync("shared/x", "1");
        await root.PutAsync("secret", "s");

        await alice.PutAsync("app/a", "1");
        Assert.AreEqual(1, (await alice.GetAsync("app/", "app0")).Count);
        Assert.AreEqual(1, (await alice.GetAsync("shared/x", serializable: true)).Count);
        await AuthClient.AssertFailsAsync(() => alice.PutAsync("shared/x", "2"), GrpcStatusCode.PermissionDenied, Denied, "a put on a read-only prefix");
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("secret"), GrpcStatusCode.PermissionDenied, Denied, "a linearizable range");
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("secret", serializable: true), GrpcStatusCode.PermissionDenied, Denied, "a serializable range");
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("app/", "\0"), GrpcStatusCode.PermissionDenied, Denied, "a from-key range past the prefix");
        await AuthClient.AssertFailsAsync(() => alice.DeleteAsync("shared/", "shared0"), GrpcStatusCode.PermissionDenied, Denied, "a delete on a read-only prefix");
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(KVMethods.Txn, new Pb.TxnRequest
        {
            Compare = { new Pb.Compare { Key = AuthClient.Bytes("app/a"), Target = Pb.Compare.Types.CompareTarget.Version, Version = 1 } },
            Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = AuthClient.Bytes("app/c"), Value = AuthClient.Bytes("1") } } },
            Failure = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = AuthClient.Bytes("secret"), Value = AuthClient.Bytes("x") } } },
        }), GrpcStatusCode.PermissionDenied, Denied, "a txn whose untaken branch writes a denied key");
        var txn = await alice.CallAsync(KVMethods.Txn, new Pb.TxnRequest
        {
            Compare = { new Pb.Compare { Key = AuthClient.Bytes("shared/x"), Target = Pb.Compare.Types.CompareTarget.Value, Value = AuthClient.Bytes("1") } },
            Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = AuthClient.Bytes("app/c"), Value = AuthClient.Bytes("1") } } },
            Failure = { new Pb.RequestOp { RequestRange = new Pb.RangeRequest { Key = AuthClient.Bytes("shared/x") } } },
        });
        Assert.IsTrue(txn.Succeeded);
        Assert.AreEqual("s", AuthClient.Text((await root.GetAsync("secret")).Kvs.Single().Value), "a refused txn wrote");

        // Checked against etcd 3.4.23: compaction needs no user at all.
        var current = (await root.GetAsync("app/a")).Header.Revision;
        await new AuthClient(cluster.Channels[0]).CallAsync(KVMethods.Compact, new Pb.CompactionRequest { Revision = current });
    }

    [TestMethod]
    public async Task Watch_NeedsReadOnItsRange_AndIsRefusedWithEtcdsCancelReason()
    {
        var (cluster, root, alice) = await StartWithAliceAsync((PermType.Read, "app/", "app0"));
        await using var members = cluster;

        using (var watch = new WatchClient(cluster.Channels[0], alice.Options with { Deadline = null }))
        {
            var created = await watch.CreateAsync("app/", prefix: true);
            Assert.IsFalse(created.Canceled, created.ToString());
            await root.PutAsync("app/x", "1");
            var events = await watch.NextAsync();
            Assert.AreEqual("app/x", AuthClient.Text(events.Events.Single().Kv.Key));

            // Checked against etcd: the refusal is a created-and-canceled answer with watch id -1.
            var refused = await watch.CreateAsync("secret");
            Assert.AreEqual((-1L, true, "rpc error: code = PermissionDenied desc = etcdserver: permission denied"), (refused.WatchId, refused.Canceled, refused.CancelReason));
            Assert.IsTrue(refused.Header.Revision > 0);
            var fromKey = await watch.CreateAsync("app/", rangeEnd: "\0");
            Assert.IsTrue(fromKey.Canceled, "a from-key watch reaching past the permission");
        }
        using (var anonymous = new WatchClient(cluster.Channels[0]))
        {
            var refused = await anonymous.CreateAsync("app/x");
            Assert.AreEqual("rpc error: code = InvalidArgument desc = etcdserver: user name is empty", refused.CancelReason);
        }
        using (var forged = new WatchClient(cluster.Channels[0], new CallOptions(Headers: new Metadata().Add("token", "notatoken"))))
        {
            var refused = await forged.CreateAsync("app/x");
            Assert.AreEqual("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token", refused.CancelReason);
        }
    }

    [TestMethod]
    public async Task Leases_GrantIsFree_AttachRevokeAndKeysNeedPermission_ExpiryStillRevokes()
    {
        var (cluster, root, alice) = await StartWithAliceAsync((PermType.Readwrite, "app/", "app0"));
        await using var members = cluster;

        // Checked against etcd: a lease grant needs no user.
        var shared = await new AuthClient(cluster.Channels[0]).GrantAsync(100);
        await alice.PutAsync("app/mine", "1", lease: shared);
        await root.PutAsync("secret", "s", lease: shared);
        await AuthClient.AssertFailsAsync(() => alice.PutAsync("app/more", "1", lease: shared), GrpcStatusCode.PermissionDenied, Denied, "attaching to a lease with a key alice may not write");
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(LeaseMethods.LeaseRevoke, new Pb.LeaseRevokeRequest { ID = shared }), GrpcStatusCode.PermissionDenied, Denied, "revoking it");
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = shared, Keys = true }),
            GrpcStatusCode.PermissionDenied, Denied, "listing its keys (etcd 3.5.9)");
        Assert.AreEqual(2, (await root.CallAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = shared, Keys = true })).Keys.Count);
        Assert.IsTrue((await alice.CallAsync(LeaseMethods.LeaseTimeToLive, new Pb.LeaseTimeToLiveRequest { ID = shared })).TTL > 0);
        await root.CallAsync(LeaseMethods.LeaseRevoke, new Pb.LeaseRevokeRequest { ID = shared });

        // The leader revokes an expired lease as the members themselves: auth does not stop it.
        var brief = await alice.GrantAsync(2);
        await alice.PutAsync("app/brief", "1", lease: brief);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await root.GetAsync("app/brief")).Count > 0)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"the expired lease's key is still there\n{cluster.Log}");
            await Task.Delay(200);
        }
    }

    [TestMethod]
    public async Task MaintenanceStatusAndMemberList_NeedNoUser_AsInEtcd_ButAuthAdminDoes()
    {
        var (cluster, _, alice) = await StartWithAliceAsync((PermType.Read, "a", ""));
        await using var members = cluster;
        var anonymous = new AuthClient(cluster.Channels[0]);
        Assert.AreEqual(cluster.Members[0].MemberId, (await anonymous.CallAsync(MaintenanceMethods.Status, new Pb.StatusRequest())).Header.MemberId);
        Assert.AreEqual(1, (await anonymous.CallAsync(ClusterMethods.MemberList, new Pb.MemberListRequest())).Members.Count);
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(AuthMethods.UserList, new Pb.AuthUserListRequest()), GrpcStatusCode.PermissionDenied, Denied, "listing users");
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = "x", Password = "x" }), GrpcStatusCode.PermissionDenied, Denied, "adding a user");
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(AuthMethods.AuthDisable, new Pb.AuthDisableRequest()), GrpcStatusCode.PermissionDenied, Denied, "disabling auth");
        // Checked against etcd: a user may read itself and its own roles.
        Assert.AreEqual(1, (await alice.CallAsync(AuthMethods.UserGet, new Pb.AuthUserGetRequest { Name = "alice" })).Roles.Count);
        Assert.AreEqual(1, (await alice.CallAsync(AuthMethods.RoleGet, new Pb.AuthRoleGetRequest { Role = "alice-role" })).Perm.Count);
        await AuthClient.AssertFailsAsync(() => alice.CallAsync(AuthMethods.UserGet, new Pb.AuthUserGetRequest { Name = "root" }), GrpcStatusCode.PermissionDenied, Denied, "reading root");
    }

    [TestMethod]
    public async Task InvalidTokens_AreUnauthenticated_BothHeadersWork_AndLosingTheUserInvalidatesItsTokens()
    {
        await using var cluster = await InProcessMembers.StartAsync(1);
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        await root.AddUserWithRoleAsync("alice", "pw", (PermType.Readwrite, "a", ""));
        const string Invalid = "etcdserver: invalid auth token";
        var forged = new AuthClient(cluster.Channels[0]) { Token = "abcdefghijklmnop.1" };
        await AuthClient.AssertFailsAsync(() => forged.GetAsync("a"), GrpcStatusCode.Unauthenticated, Invalid, "a token never issued");
        forged.Token = "not-a-token";
        await AuthClient.AssertFailsAsync(() => forged.PutAsync("a", "1"), GrpcStatusCode.Unauthenticated, Invalid, "garbage");

        var alice = new AuthClient(cluster.Channels[0]) { TokenHeader = "authorization" };
        await alice.LoginAsync("alice", "pw");
        await alice.PutAsync("a", "1");

        await root.CallAsync(AuthMethods.UserChangePassword, new Pb.AuthUserChangePasswordRequest { Name = "alice", Password = "pw2" });
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("a"), GrpcStatusCode.Unauthenticated, Invalid, "a token from before a password change");
        await alice.LoginAsync("alice", "pw2");
        await alice.GetAsync("a");
        var aliceToken = alice.Token;

        await root.CallAsync(AuthMethods.AuthDisable, new Pb.AuthDisableRequest());
        await root.CallAsync(AuthMethods.AuthEnable, new Pb.AuthEnableRequest());
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("a"), GrpcStatusCode.Unauthenticated, Invalid, "a token from before auth was disabled");
        await AuthClient.AssertFailsAsync(() => root.GetAsync("a"), GrpcStatusCode.Unauthenticated, Invalid, "root's token too");
        await root.LoginAsync("root", "rootpw");
        await alice.LoginAsync("alice", "pw2");
        Assert.AreNotEqual(aliceToken, alice.Token);
        await root.CallAsync(AuthMethods.UserDelete, new Pb.AuthUserDeleteRequest { Name = "alice" });
        await AuthClient.AssertFailsAsync(() => alice.GetAsync("a"), GrpcStatusCode.Unauthenticated, Invalid, "a deleted user's token");
    }

    [TestMethod]
    public async Task NodeEtcd3_LogsIn_AndIsRefusedOutsideItsRange_ThroughGrpcJs()
    {
        var (cluster, _, _) = await StartWithAliceAsync((PermType.Readwrite, "node/", "node0"));
        await using var members = cluster;
        using var result = await Processes.NodeInterop.RunAsync("etcd3-auth.js", cluster.Channels[0].Address.ToString().TrimEnd('/'), "alice", "pw", "node/k", "secret");
        Assert.AreEqual("from etcd3", result.RootElement.GetProperty("value").GetString());
        var refusal = result.RootElement.GetProperty("refusal");
        // grpc-js puts the code before etcd's message; etcd3 recognises the message and raises its own error type.
        Assert.AreEqual(("EtcdPermissionDeniedError", "7 PERMISSION_DENIED: " + Denied), (refusal.GetProperty("name").GetString(), refusal.GetProperty("message").GetString()), refusal.GetRawText());
    }

    [TestMethod]
    public async Task SimpleTokens_LiveTheirTtlFromTheirLastUse()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddDays(20_000));
        await using var cluster = await InProcessMembers.StartAsync(1, options => options with { AuthToken = options.AuthToken with { SimpleTokenTtlSeconds = 60 } }, time);
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        time.Advance(TimeSpan.FromSeconds(59));
        await root.PutAsync("k", "1"); // a use restarts the 60 s
        time.Advance(TimeSpan.FromSeconds(59));
        await root.PutAsync("k", "2");
        time.Advance(TimeSpan.FromSeconds(61));
        await AuthClient.AssertFailsAsync(() => root.PutAsync("k", "3"), GrpcStatusCode.Unauthenticated, "etcdserver: invalid auth token", "61 s after the last use");
        await root.LoginAsync("root", "rootpw");
        await root.PutAsync("k", "3");
    }

    [TestMethod]
    public async Task UsersRolesAndTheEnabledFlag_SurviveARestart_FromSnapshotAndLog()
    {
        await using var cluster = await InProcessMembers.StartAsync(1, options => options with { SnapshotCount = 5 });
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        await root.AddUserWithRoleAsync("alice", "pw", (PermType.Readwrite, "app/", "app0"));
        for (var i = 0; i < 12; i++)
        {
            await root.PutAsync($"app/{i}", "v"); // past a few snapshots
        }
        await root.CallAsync(AuthMethods.RoleAdd, new Pb.AuthRoleAddRequest { Name = "after-the-snapshot" });
        var revision = (await root.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest())).AuthRevision;
        await cluster.StopAsync(0);
        await cluster.RestartAsync(0);
        await Processes.ServerProcessHarness.WaitForLeaderAsync(cluster.Channels[0], TimeSpan.FromSeconds(30));

        var anonymous = new AuthClient(cluster.Channels[0]);
        await AuthClient.AssertFailsAsync(() => anonymous.GetAsync("app/1"), GrpcStatusCode.InvalidArgument, Empty, "auth is still on");
        var alice = new AuthClient(cluster.Channels[0]);
        await alice.LoginAsync("alice", "pw");
        Assert.AreEqual(12, (await alice.GetAsync("app/", "app0")).Count);
        await AuthClient.AssertFailsAsync(() => alice.PutAsync("other", "v"), GrpcStatusCode.PermissionDenied, Denied, "alice's range is still hers");
        await root.LoginAsync("root", "rootpw");
        var status = await root.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest());
        Assert.AreEqual((true, revision), (status.Enabled, status.AuthRevision));
        CollectionAssert.AreEqual(new[] { "after-the-snapshot", "alice-role" }, (await root.CallAsync(AuthMethods.RoleList, new Pb.AuthRoleListRequest())).Roles.ToArray());
    }

    [TestMethod]
    public async Task SimpleTokens_AreValidOnEveryMemberThatAppliedThem_AsInEtcd()
    {
        await using var cluster = await InProcessMembers.StartAsync(3);
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        await root.AddUserWithRoleAsync("alice", "pw", (PermType.Readwrite, "k", ""));
        var token = await new AuthClient(cluster.Channels[2]).LoginAsync("alice", "pw");
        for (var member = 0; member < 3; member++)
        {
            var alice = new AuthClient(cluster.Channels[member]) { Token = token };
            await alice.PutAsync("k", $"from {member}");
            Assert.AreEqual($"from {member}", AuthClient.Text((await alice.GetAsync("k", serializable: false)).Kvs.Single().Value));
        }
    }
}
