using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Auth;
using CurpStore.Server.Configuration;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Tests.Watch;
using CurpStore.Store;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;
using PermType = CurpStore.Rpc.Etcd.AuthPb.Permission.Types.Type;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Tests.Auth;

/// <summary>
/// JWT tokens (<c>--auth-token jwt,...</c>): every signing method family signs and verifies; tokens carry etcd's
/// claims; forged, re-signed, expired and wrong-method tokens are refused; keys are checked at start with etcd's
/// messages; a cluster accepts a token on every member and refuses it once the auth revision moved; and tokens made here
/// and by Debian's real etcd are accepted by the other.
/// </summary>
[TestClass]
public sealed class JwtTokenProviderTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch.AddDays(20_000);
    private static string keyDir = "";
    private static string rsaPrivate = "", rsaPublic = "", otherRsaPublic = "", ecPrivate = "", ecPublic = "", ec384Private = "", hmacKey = "";

    [ClassInitialize]
    public static void WriteKeys(TestContext context)
    {
        keyDir = Directory.CreateTempSubdirectory("curpstore-jwt").FullName;
        using var rsa = RSA.Create(2048);
        using var otherRsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ec384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        rsaPrivate = Write("rsa.key", rsa.ExportRSAPrivateKeyPem());
        rsaPublic = Write("rsa.pub", rsa.ExportSubjectPublicKeyInfoPem());
        otherRsaPublic = Write("other.pub", otherRsa.ExportSubjectPublicKeyInfoPem());
        ecPrivate = Write("ec.key", ec.ExportPkcs8PrivateKeyPem());
        ecPublic = Write("ec.pub", ec.ExportSubjectPublicKeyInfoPem());
        ec384Private = Write("ec384.key", ec384.ExportECPrivateKeyPem());
        hmacKey = Write("hmac.key", "a shared secret of some length");
    }

    [ClassCleanup]
    public static void DeleteKeys() => Directory.Delete(keyDir, recursive: true);

    private static string Write(string name, string text)
    {
        var path = Path.Combine(keyDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static JwtTokenProvider Provider(string options, TimeProvider? time = null) =>
        JwtTokenProvider.Create(AuthTokenOptions.Parse("jwt," + options), time ?? new ManualTime(Start));

    private static AuthenticateResponse Accepted(string user, long revision) => new() { User = user, AuthRevision = revision };

    private static JsonElement Part(string token, int index)
    {
        var text = token.Split('.')[index].Replace('-', '+').Replace('_', '/');
        return JsonDocument.Parse(Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='))).RootElement;
    }

    [TestMethod]
    [DataRow("sign-method=RS256,priv-key={rsa},pub-key={rsapub}")]
    [DataRow("sign-method=RS512,priv-key={rsa}")]
    [DataRow("sign-method=PS384,priv-key={rsa},pub-key={rsapub}")]
    [DataRow("sign-method=ES256,priv-key={ec},pub-key={ecpub}")]
    [DataRow("sign-method=ES384,priv-key={ec384}")]
    [DataRow("sign-method=HS256,priv-key={hmac}")]
    [DataRow("sign-method=HS512,priv-key={hmac}")]
    public void EveryMethodFamily_SignsEtcdsClaims_AndVerifiesThem(string options)
    {
        var provider = Provider(Keys(options));
        var token = provider.Assign(Accepted("alice", 42));
        var method = options.Split(',')[0]["sign-method=".Length..];
        Assert.AreEqual($$"""{"alg":"{{method}}","typ":"JWT"}""", Part(token, 0).GetRawText());
        var claims = Part(token, 1);
        Assert.AreEqual("exp,revision,username", string.Join(',', claims.EnumerateObject().Select(p => p.Name)), "etcd's claims, in Go's order");
        Assert.AreEqual((Start.AddMinutes(5).ToUnixTimeSeconds(), 42L, "alice"), (claims.GetProperty("exp").GetInt64(), claims.GetProperty("revision").GetInt64(), claims.GetProperty("username").GetString()));
        Assert.AreEqual(new RequestAuth("alice", 42), provider.Verify(token));
        Assert.AreEqual(new RequestAuth("alice", 42), Provider(Keys(options)).Verify(token), "another member with the same key");
    }

    [TestMethod]
    public void ForgedExpiredAndForeignTokens_AreRefused()
    {
        var time = new ManualTime(Start);
        var provider = Provider(Keys("sign-method=RS256,priv-key={rsa},ttl=1m"), time);
        var token = provider.Assign(Accepted("alice", 7));
        var parts = token.Split('.');
        string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var asRoot = Encode(Part(token, 1).GetRawText().Replace("\"alice\"", "\"root\"", StringComparison.Ordinal));
        Assert.IsNull(provider.Verify($"{parts[0]}.{asRoot}.{parts[2]}"), "claims changed under the signature");
        Assert.IsNull(provider.Verify($"{Encode("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}."), "alg none");
        Assert.IsNull(provider.Verify(Provider(Keys("sign-method=HS256,priv-key={hmac}")).Assign(Accepted("alice", 7))), "another method");
        Assert.IsNull(provider.Verify("a.b"), "not three parts");
        Assert.IsNull(provider.Verify("!!.??.**"), "not base64");
        Assert.IsNotNull(provider.Verify(token));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.IsNotNull(provider.Verify(token));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.IsNull(provider.Verify(token), "expired");
    }

    [TestMethod]
    public void AMemberWithOnlyThePublicKey_VerifiesButCannotIssue()
    {
        var token = Provider(Keys("sign-method=RS256,priv-key={rsa}")).Assign(Accepted("alice", 3));
        var verifier = Provider(Keys("sign-method=RS256,pub-key={rsapub}"));
        Assert.AreEqual(new RequestAuth("alice", 3), verifier.Verify(token));
        var refused = Assert.ThrowsExactly<RpcException>(verifier.EnsureRoom);
        Assert.AreEqual((RpcStatus.Unknown, "auth: token signing attempted with verify-only key"), (refused.StatusCode, refused.Detail));
    }

    [TestMethod]
    [DataRow("sign-method=RS256", "auth: missing key data")]
    [DataRow("sign-method=HS256,pub-key={rsapub}", "auth: missing key data")]
    [DataRow("sign-method=RS256,priv-key={rsa},pub-key={otherpub}", "auth: public and private keys don't match")]
    [DataRow("sign-method=XX256,priv-key={rsa}", "auth: invalid auth signature method")]
    [DataRow("sign-method=EdDSA,priv-key={rsa}", "auth: invalid auth signature method")]
    [DataRow("priv-key={rsa}", "auth: invalid auth signature method")]
    [DataRow("sign-method=RS256,priv-key=/nonexistent/key", "auth: invalid auth options")]
    [DataRow("sign-method=RS256,priv-key={hmac}", "auth: invalid auth options")]
    [DataRow("sign-method=ES384,priv-key={ec}", "auth: invalid auth options")]
    [DataRow("sign-method=RS256,priv-key={rsa},ttl=soon", "auth: invalid auth options")]
    public void BadKeySetups_FailAtStart_WithEtcdsMessages(string options, string message)
    {
        // Checked against etcd 3.4.23: "jwt,sign-method=RS256" alone stops it with "auth: missing key data".
        var failure = Assert.ThrowsExactly<ServerOptionsException>(() => Provider(Keys(options)));
        Assert.AreEqual(message, failure.Message);
    }

    [TestMethod]
    public async Task AClusterAcceptsATokenOnEveryMember_UntilTheAuthRevisionMoves_OrItExpires()
    {
        var time = new ManualTime(Start);
        var jwt = AuthTokenOptions.Parse(Keys("jwt,sign-method=RS256,priv-key={rsa},pub-key={rsapub},ttl=10m"));
        await using var cluster = await InProcessMembers.StartAsync(3, options => options with { AuthToken = jwt }, time);
        var root = new AuthClient(cluster.Channels[0]);
        await root.EnableWithRootAsync();
        await root.AddUserWithRoleAsync("alice", "pw", (PermType.Readwrite, "k", ""));
        var status = await root.CallAsync(AuthMethods.AuthStatus, new Pb.AuthStatusRequest());
        var token = await new AuthClient(cluster.Channels[1]).LoginAsync("alice", "pw");
        Assert.AreEqual(3, token.Split('.').Length);
        Assert.AreEqual((long)status.AuthRevision, Part(token, 1).GetProperty("revision").GetInt64());
        foreach (var channel in cluster.Channels)
        {
            await new AuthClient(channel) { Token = token }.PutAsync("k", "v");
        }

        // Any auth change makes the token's revision old, on every member (checked against etcd: InvalidArgument).
        await root.CallAsync(AuthMethods.RoleAdd, new Pb.AuthRoleAddRequest { Name = "unrelated" });
        foreach (var channel in cluster.Channels)
        {
            var alice = new AuthClient(channel) { Token = token };
            await AuthClient.AssertFailsAsync(() => alice.PutAsync("k", "v"), RpcStatus.InvalidArgument, "etcdserver: revision of auth store is old", "a put with an old token");
            await AuthClient.AssertFailsAsync(() => alice.GetAsync("k"), RpcStatus.InvalidArgument, "etcdserver: revision of auth store is old", "a range with an old token");
        }
        var fresh = new AuthClient(cluster.Channels[2]);
        await fresh.LoginAsync("alice", "pw");
        await fresh.PutAsync("k", "again");
        time.Advance(TimeSpan.FromMinutes(10));
        await AuthClient.AssertFailsAsync(() => fresh.GetAsync("k"), RpcStatus.Unauthenticated, "etcdserver: invalid auth token", "an expired token");
    }

    [TestMethod]
    public async Task TokensOfRealEtcd_AndOfCurpStore_AreAcceptedByTheOther()
    {
        var jwt = Keys("jwt,sign-method=RS256,priv-key={rsa},pub-key={rsapub}");
        using var harness = new ServerProcessHarness();
        var (clientPort, peerPort) = (ServerProcessHarness.FreePort(), ServerProcessHarness.FreePort());
        var endpoint = $"http://127.0.0.1:{clientPort}";
        harness.StartEtcd("etcd",
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"etcd=http://127.0.0.1:{peerPort}", "--auth-token", jwt);
        using var channel = new GrpcChannel(new Uri(endpoint));
        await ServerProcessHarness.WaitForLeaderAsync(channel, TimeSpan.FromSeconds(30));
        var etcd = new AuthClient(channel);
        await etcd.EnableWithRootAsync();
        var provider = JwtTokenProvider.Create(AuthTokenOptions.Parse(jwt));

        // etcd 3.4 has no AuthStatus: its token's revision claim is the auth revision.
        var revision = Part(etcd.Token!, 1).GetProperty("revision").GetInt64();
        Assert.IsTrue(revision >= 2, $"etcd's token {etcd.Token}");
        Assert.AreEqual(new RequestAuth("root", revision), provider.Verify(etcd.Token!), $"etcd's token {etcd.Token}");
        var ours = provider.Assign(Accepted("root", revision));
        await new AuthClient(channel) { Token = ours }.PutAsync("made-by", "curpstore");
        Assert.AreEqual(1, (await etcd.GetAsync("made-by")).Count, harness.Log("etcd"));
    }

    private static string Keys(string options) => options
        .Replace("{rsapub}", rsaPublic, StringComparison.Ordinal).Replace("{otherpub}", otherRsaPublic, StringComparison.Ordinal)
        .Replace("{rsa}", rsaPrivate, StringComparison.Ordinal).Replace("{ecpub}", ecPublic, StringComparison.Ordinal)
        .Replace("{ec384}", ec384Private, StringComparison.Ordinal).Replace("{ec}", ecPrivate, StringComparison.Ordinal)
        .Replace("{hmac}", hmacKey, StringComparison.Ordinal);
}
