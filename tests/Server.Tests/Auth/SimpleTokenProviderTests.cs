using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Auth;
using CurpStore.Store;

namespace CurpStore.Server.Tests.Auth;

/// <summary>The simple-token keeper fed by applies, without a server: tokens appear when their authentication is
/// applied (a lookup waits for it), go away with their user, their password, auth being disabled, a snapshot without
/// their user, or their time to live; and the keeper is bounded.</summary>
[TestClass]
public sealed class SimpleTokenProviderTests
{
    private readonly EtcdStateMachine machine = new(new InMemoryKvEngine());
    private ulong index;

    /// <summary>Applies as the members (admin requests pass) and tells the keeper.</summary>
    private void Apply(SimpleTokenProvider tokens, EtcdRequest request)
    {
        var command = new EtcdCommand(new ProposeId(1, ++index), request with { Auth = RequestAuth.Member });
        machine.Apply(command, index);
        tokens.OnApplied(command, index);
    }

    private SimpleTokenProvider EnabledWithAlice(ManualTime time, int maxTokens = 10)
    {
        var tokens = new SimpleTokenProvider(machine, ttlSeconds: 60, time, maxTokens);
        Apply(tokens, new UserAddRequest { Name = "root", PasswordHash = "h" });
        Apply(tokens, new UserGrantRoleRequest { User = "root", Role = "root" });
        Apply(tokens, new UserAddRequest { Name = "alice", PasswordHash = "h" });
        Apply(tokens, new AuthEnableRequest());
        return tokens;
    }

    private string Authenticate(SimpleTokenProvider tokens, string user)
    {
        var prefix = tokens.NewTokenPrefix();
        Apply(tokens, new AuthenticateRequest { Name = user, SimpleTokenPrefix = prefix, CheckedRevision = machine.Auth.Revision });
        return $"{prefix}.{index}";
    }

    private async Task<string?> WhoAsync(SimpleTokenProvider tokens, string token) =>
        (await tokens.IdentifyAsync(token, machine.Auth.Revision, CancellationToken.None))?.User;

    [TestMethod]
    public async Task ATokenNamesItsUser_AtTheCurrentAuthRevision_UntilItsUserOrPasswordGoes()
    {
        var tokens = EnabledWithAlice(new ManualTime(DateTimeOffset.UnixEpoch));
        var alice = Authenticate(tokens, "alice");
        var root = Authenticate(tokens, "root");
        StringAssert.Matches(alice, new System.Text.RegularExpressions.Regex("^[a-zA-Z]{16}\\.[0-9]+$"));
        Assert.AreEqual(new RequestAuth("alice", machine.Auth.Revision), await tokens.IdentifyAsync(alice, machine.Auth.Revision, CancellationToken.None));
        Apply(tokens, new UserChangePasswordRequest { Name = "alice", PasswordHash = "h2" });
        Assert.IsNull(await WhoAsync(tokens, alice));
        Assert.AreEqual("root", await WhoAsync(tokens, root));
        alice = Authenticate(tokens, "alice");
        Apply(tokens, new UserDeleteRequest { Name = "alice" });
        Assert.IsNull(await WhoAsync(tokens, alice));
        Apply(tokens, new AuthDisableRequest());
        Assert.IsNull(await WhoAsync(tokens, root));
        Assert.AreEqual(0, tokens.Count);
    }

    [TestMethod]
    public async Task ALookup_WaitsForItsAuthenticationToBeApplied()
    {
        var tokens = EnabledWithAlice(new ManualTime(DateTimeOffset.UnixEpoch));
        var prefix = tokens.NewTokenPrefix();
        var token = $"{prefix}.{index + 2}";
        var lookup = tokens.IdentifyAsync(token, machine.Auth.Revision, CancellationToken.None).AsTask();
        Apply(tokens, new PutRequest { Key = [1], Value = [1] });
        Assert.IsFalse(lookup.IsCompleted, "the lookup did not wait for the authentication's index");
        Apply(tokens, new AuthenticateRequest { Name = "alice", SimpleTokenPrefix = prefix, CheckedRevision = machine.Auth.Revision });
        Assert.AreEqual("alice", (await lookup.WaitAsync(TimeSpan.FromSeconds(30)))?.User);
        using var cancelled = new CancellationTokenSource();
        var never = tokens.IdentifyAsync($"{prefix}.{index + 100}", 1, cancelled.Token).AsTask();
        await cancelled.CancelAsync();
        await Assert.ThrowsExactlyAsync<TaskCanceledException>(() => never.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.IsNull(await WhoAsync(tokens, "no-dot"));
        Assert.IsNull(await WhoAsync(tokens, $"{prefix}.x"));
    }

    [TestMethod]
    public async Task TheKeeperIsBounded_ExpiredTokensGiveWay()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var tokens = EnabledWithAlice(time, maxTokens: 2);
        var first = Authenticate(tokens, "alice");
        Authenticate(tokens, "alice");
        var full = Assert.ThrowsExactly<RpcException>(tokens.EnsureRoom);
        Assert.AreEqual((CurpStore.Rpc.GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests"), (full.StatusCode, full.Detail));
        var skipped = Authenticate(tokens, "alice");
        Assert.IsNull(await WhoAsync(tokens, skipped), "beyond the bound a member keeps no more tokens");
        time.Advance(TimeSpan.FromSeconds(61));
        tokens.EnsureRoom();
        Assert.AreEqual(0, tokens.Count);
        Assert.IsNull(await WhoAsync(tokens, first));
    }

    [TestMethod]
    public async Task ASnapshotWithoutTheUser_TakesItsTokens()
    {
        var tokens = EnabledWithAlice(new ManualTime(DateTimeOffset.UnixEpoch));
        var alice = Authenticate(tokens, "alice");
        var root = Authenticate(tokens, "root");
        var other = new EtcdStateMachine(new InMemoryKvEngine());
        other.Apply(new EtcdCommand(new ProposeId(1, 1), new UserAddRequest { Name = "root", PasswordHash = "h" }), 1);
        other.Apply(new EtcdCommand(new ProposeId(1, 2), new UserGrantRoleRequest { User = "root", Role = "root" }), 2);
        other.Apply(new EtcdCommand(new ProposeId(1, 3), new AuthEnableRequest()), 3);
        other.Apply(new EtcdCommand(new ProposeId(1, 4), new PutRequest { Key = [1], Value = [1], Auth = RequestAuth.Member }), index + 10);
        machine.RestoreSnapshot(other.TakeSnapshot());
        tokens.OnRestored();
        Assert.IsNull(await WhoAsync(tokens, alice));
        Assert.AreEqual("root", await WhoAsync(tokens, root));
    }
}
