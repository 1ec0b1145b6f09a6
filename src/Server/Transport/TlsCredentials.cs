using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CurpStore.Rpc;
using CurpStore.Server.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CurpStore.Server.Transport;

/// <summary>
/// The certificates of one <see cref="TlsInfo"/>, loaded once: what a listener presents and requires, and what a
/// connection this member opens presents and trusts. Certificates are checked against the trusted CA file alone
/// (custom root trust, no revocation lookups: test and private CAs have no CRL endpoints), and a server's certificate
/// must name the host dialled (its SAN), as Go's TLS client requires.
/// </summary>
public sealed class TlsCredentials : IDisposable
{
    private readonly X509Certificate2Collection trustedRoots = [];

    private TlsCredentials(TlsInfo info, X509Certificate2? certificate)
    {
        Info = info;
        Certificate = certificate;
    }

    public TlsInfo Info { get; }

    /// <summary>The certificate with its private key; null when the settings name none.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Loads the files named by <paramref name="info"/>. <paramref name="side"/> prefixes flag names in
    /// errors ("" or "peer-").</summary>
    /// <exception cref="ServerOptionsException">A file is missing or not PEM of the expected kind.</exception>
    public static TlsCredentials Load(TlsInfo info, string side)
    {
        ArgumentNullException.ThrowIfNull(info);
        X509Certificate2? certificate = null;
        try
        {
            if (!info.IsEmpty)
            {
                certificate = ClientTls.LoadPem(info.CertFile!, info.KeyFile);
            }
            var credentials = new TlsCredentials(info, certificate);
            if (!string.IsNullOrEmpty(info.TrustedCaFile))
            {
                credentials.trustedRoots.ImportFromPemFile(info.TrustedCaFile);
                if (credentials.trustedRoots.Count == 0)
                {
                    throw new ServerOptionsException($"--{side}trusted-ca-file {info.TrustedCaFile}: no certificate in it");
                }
            }
            return credentials;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            certificate?.Dispose();
            throw new ServerOptionsException($"--{side}cert-file/--{side}key-file/--{side}trusted-ca-file: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="certificate"/> chains to the trusted CA file (or, without one, to the system's
    /// roots, which <paramref name="errors"/> already judged).</summary>
    public bool IsTrusted(X509Certificate2 certificate, SslPolicyErrors errors) => ClientTls.ChainsTo(certificate, trustedRoots, errors);

    /// <summary>A listener's TLS: this certificate, and with <see cref="TlsInfo.ClientCertAuth"/> a client certificate
    /// that must chain to the trusted CA (etcd's RequireAndVerifyClientCert); otherwise none is asked for.</summary>
    public void ConfigureServer(GrpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServerCertificate = Certificate;
        options.ConfigureHttps = https =>
        {
            https.CheckCertificateRevocation = false;
            if (Info.ClientCertAuth)
            {
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                // The name check is for servers: a client certificate names a user or a member, not the host it
                // connects from.
                https.ClientCertificateValidation = (certificate, _, errors) =>
                    IsTrusted(certificate, errors & ~SslPolicyErrors.RemoteCertificateNameMismatch);
            }
            else
            {
                https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
            }
        };
    }

    /// <summary>A connection's TLS: present this certificate (if any) and trust servers that chain to the trusted CA
    /// and name the host dialled.</summary>
    public SslClientAuthenticationOptions ClientOptions() => ClientTls.Create(trustedRoots, Certificate);

    public void Dispose() => Certificate?.Dispose();
}
