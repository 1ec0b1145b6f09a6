using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace CurpStore.Rpc;

/// <summary>
/// TLS settings of a client connection as etcd's clients make them (etcdctl's <c>--cacert</c>, <c>--cert</c>,
/// <c>--key</c>): trust servers whose certificate chains to the given CA certificates (custom root trust, no
/// revocation lookups; the system's roots when none are given) and names the host dialled; show a client certificate
/// when one is given.
/// </summary>
public static class ClientTls
{
    /// <summary>From PEM files; each may be null.</summary>
    public static SslClientAuthenticationOptions FromPemFiles(string? caFile, string? certFile, string? keyFile)
    {
        var roots = new X509Certificate2Collection();
        if (!string.IsNullOrEmpty(caFile))
        {
            roots.ImportFromPemFile(caFile);
        }
        return Create(roots, string.IsNullOrEmpty(certFile) ? null : LoadPem(certFile, keyFile));
    }

    /// <summary>A certificate with its private key from PEM files, usable by SslStream on every platform.</summary>
    public static X509Certificate2 LoadPem(string certFile, string? keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Trust servers chaining to <paramref name="trustedRoots"/> (the system's roots when empty) and show
    /// <paramref name="clientCertificate"/> when given.</summary>
    public static SslClientAuthenticationOptions Create(X509Certificate2Collection trustedRoots, X509Certificate2? clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(trustedRoots);
        return new SslClientAuthenticationOptions
        {
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is X509Certificate2 server
                && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                && ChainsTo(server, trustedRoots, errors),
        };
    }

    /// <summary>Whether <paramref name="certificate"/> chains to one of <paramref name="trustedRoots"/>, or, when there
    /// are none, whether the system's check (<paramref name="errors"/>) passed.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection trustedRoots, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(trustedRoots);
        if (trustedRoots.Count == 0)
        {
            return errors == SslPolicyErrors.None;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
