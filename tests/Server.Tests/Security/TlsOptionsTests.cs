using CurpStore.Server.Configuration;

namespace CurpStore.Server.Tests.Security;

/// <summary>etcd 3.4's TLS flags, their environment variables and config-file sections, and the errors etcd gives for
/// an https URL without a certificate (checked against Debian's etcd 3.4.23).</summary>
[TestClass]
public sealed class TlsOptionsTests
{
    private static readonly string[] HttpsMember =
    [
        "--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379",
        "--listen-peer-urls", "https://127.0.0.1:2380", "--initial-advertise-peer-urls", "https://127.0.0.1:2380",
        "--initial-cluster", "default=https://127.0.0.1:2380",
    ];

    [TestMethod]
    public void Flags_SetClientAndPeerTls()
    {
        var options = ServerOptionsParser.Parse([
            .. HttpsMember, "--cert-file", "s.crt", "--key-file=s.key", "--trusted-ca-file", "ca.crt", "--client-cert-auth",
            "--peer-cert-file", "p.crt", "--peer-key-file", "p.key", "--peer-trusted-ca-file", "pca.crt", "--peer-client-cert-auth=false"]).Options;
        Assert.AreEqual(new TlsInfo { CertFile = "s.crt", KeyFile = "s.key", TrustedCaFile = "ca.crt", ClientCertAuth = true }, options.ClientTls);
        Assert.AreEqual(new TlsInfo { CertFile = "p.crt", KeyFile = "p.key", TrustedCaFile = "pca.crt", ClientCertAuth = false }, options.PeerTls);
    }

    [TestMethod]
    public void EnvironmentVariables_SetTheSameSettings()
    {
        var options = ServerOptionsParser.Parse(HttpsMember, new Dictionary<string, string>
        {
            ["ETCD_CERT_FILE"] = "s.crt",
            ["ETCD_KEY_FILE"] = "s.key",
            ["ETCD_CLIENT_CERT_AUTH"] = "true",
            ["ETCD_TRUSTED_CA_FILE"] = "ca.crt",
            ["ETCD_PEER_CERT_FILE"] = "p.crt",
            ["ETCD_PEER_KEY_FILE"] = "p.key",
            ["ETCD_PEER_CLIENT_CERT_AUTH"] = "true",
            ["ETCD_PEER_TRUSTED_CA_FILE"] = "ca.crt",
        }).Options;
        Assert.IsTrue(options.ClientTls.ClientCertAuth);
        Assert.AreEqual("s.key", options.ClientTls.KeyFile);
        Assert.IsTrue(options.PeerTls.ClientCertAuth);
        Assert.AreEqual("p.crt", options.PeerTls.CertFile);
    }

    [TestMethod]
    public void ConfigFile_TakesEtcdsTransportSecuritySections()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """
                listen-client-urls: https://127.0.0.1:2379
                advertise-client-urls: https://127.0.0.1:2379
                listen-peer-urls: https://127.0.0.1:2380
                initial-advertise-peer-urls: https://127.0.0.1:2380
                initial-cluster: default=https://127.0.0.1:2380
                client-transport-security:
                  cert-file: s.crt
                  key-file: s.key
                  client-cert-auth: true
                  trusted-ca-file: ca.crt
                peer-transport-security:
                  cert-file: p.crt
                  key-file: p.key
                  client-cert-auth: true
                  trusted-ca-file: pca.crt
                """);
            var options = ServerOptionsParser.Parse(["--config-file", path]).Options;
            Assert.AreEqual(new TlsInfo { CertFile = "s.crt", KeyFile = "s.key", TrustedCaFile = "ca.crt", ClientCertAuth = true }, options.ClientTls);
            Assert.AreEqual(new TlsInfo { CertFile = "p.crt", KeyFile = "p.key", TrustedCaFile = "pca.crt", ClientCertAuth = true }, options.PeerTls);

            File.WriteAllText(path, "client-transport-security:\n  auto-tls: true\n");
            var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse(["--config-file", path]));
            StringAssert.Contains(error.Message, "client-transport-security.auto-tls");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void HttpsClientUrl_WithoutCertificate_IsRefusedWithEtcdsMessage()
    {
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse([.. HttpsMember, "--peer-cert-file", "p.crt", "--peer-key-file", "p.key"]));
        Assert.AreEqual("TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme", error.Message);
    }

    [TestMethod]
    public void HttpsPeerUrl_WithoutCertificate_IsRefusedWithEtcdsMessage()
    {
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse([.. HttpsMember, "--cert-file", "s.crt", "--key-file", "s.key"]));
        Assert.AreEqual("cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented", error.Message);
    }

    [TestMethod]
    public void CertificateWithoutKey_IsRefused()
    {
        var error = Assert.ThrowsExactly<ServerOptionsException>(() => ServerOptionsParser.Parse(["--cert-file", "s.crt"]));
        Assert.AreEqual("--cert-file and --key-file must be given together", error.Message);
    }
}
