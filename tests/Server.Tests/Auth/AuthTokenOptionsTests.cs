using CurpStore.Server.Auth;
using CurpStore.Server.Configuration;

namespace CurpStore.Server.Tests.Auth;

/// <summary><c>--auth-token</c> and <c>--auth-token-ttl</c> as etcd reads them, and the password hashes.</summary>
[TestClass]
public sealed class AuthTokenOptionsTests
{
    [TestMethod]
    public void Defaults_AreEtcds_SimpleTokensLivingFiveMinutes()
    {
        var options = ServerOptionsParser.Parse([]).Options.AuthToken;
        Assert.AreEqual((AuthTokenType.Simple, 300, 0), (options.Type, options.SimpleTokenTtlSeconds, options.Options.Count));
    }

    [TestMethod]
    public void JwtOptions_AndTheTtl_InAnyOrder()
    {
        var options = ServerOptionsParser.Parse(["--auth-token-ttl", "30", "--auth-token", "jwt,sign-method=RS256,priv-key=/k,pub-key=/p,ttl=10m"]).Options.AuthToken;
        Assert.AreEqual((AuthTokenType.Jwt, 30), (options.Type, options.SimpleTokenTtlSeconds));
        Assert.AreEqual("priv-key=/k,pub-key=/p,sign-method=RS256,ttl=10m", string.Join(',', options.Options.Select(o => $"{o.Key}={o.Value}")));
        var environment = new Dictionary<string, string> { ["ETCD_AUTH_TOKEN"] = "simple", ["ETCD_AUTH_TOKEN_TTL"] = "7" };
        Assert.AreEqual((AuthTokenType.Simple, 7), (ServerOptionsParser.Parse([], environment).Options.AuthToken.Type, ServerOptionsParser.Parse([], environment).Options.AuthToken.SimpleTokenTtlSeconds));
    }

    [TestMethod]
    [DataRow("--auth-token", "foo", "auth: invalid auth options")]
    [DataRow("--auth-token", "jwt,pub-key", "auth: invalid auth options")]
    [DataRow("--auth-token", "jwt,ttl=1m,ttl=2m", "auth: invalid auth options")]
    [DataRow("--auth-token-ttl", "0", "invalid value \"0\" for flag -auth-token-ttl: expected a positive number")]
    public void BadValues_AreRefused_WithEtcdsMessage(string flag, string value, string message)
    {
        // Checked against etcd 3.4.23: "--auth-token foo" and "jwt,pub-key" stop it with "auth: invalid auth options".
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse([flag, value]));
        Assert.AreEqual(message, error.Message);
    }

    [TestMethod]
    public void PasswordHashes_AreSaltedPbkdf2_CheckedInConstantTime()
    {
        var hash = PasswordHasher.Hash("secret");
        StringAssert.Matches(hash, new System.Text.RegularExpressions.Regex("^pbkdf2-sha256\\$100000\\$[A-Za-z0-9+/=]{24}\\$[A-Za-z0-9+/=]{44}$"));
        Assert.AreNotEqual(hash, PasswordHasher.Hash("secret"), "a fresh salt each time");
        Assert.IsTrue(PasswordHasher.Verify("secret", hash));
        Assert.IsFalse(PasswordHasher.Verify("Secret", hash));
        Assert.IsFalse(PasswordHasher.Verify("", hash));
        var cheap = PasswordHasher.Hash("", iterations: 3);
        Assert.IsTrue(PasswordHasher.Verify("", cheap), "an empty password is a password too (etcd 3.5 hashes it)");
        foreach (var stored in new[] { "", "secret", "bcrypt$10$x$y", "pbkdf2-sha256$0$AAAA$AAAA", "pbkdf2-sha256$99999999$AAAA$AAAA", "pbkdf2-sha256$1$!!$AAAA", "pbkdf2-sha256$1$AAAA$" })
        {
            Assert.IsFalse(PasswordHasher.Verify("secret", stored), stored);
        }
    }
}
