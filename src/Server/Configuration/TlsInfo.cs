namespace CurpStore.Server.Configuration;

/// <summary>One side's TLS settings, as etcd's <c>transport.TLSInfo</c>: the client side (<c>--cert-file</c>,
/// <c>--key-file</c>, <c>--trusted-ca-file</c>, <c>--client-cert-auth</c>) or the peer side (the same with
/// <c>--peer-</c>). The certificate is both what the listener presents and, on the peer side, what this member
/// presents when it dials other members.</summary>
public sealed record TlsInfo
{
    /// <summary>PEM certificate (chain) the listener presents.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>PEM CA certificate(s): client certificates must chain to one (with <see cref="ClientCertAuth"/>), and
    /// on the peer side the other members' server certificates too. Without it the system's roots are used.</summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>Require a client certificate signed by <see cref="TrustedCaFile"/> on every connection.</summary>
    public bool ClientCertAuth { get; init; }

    /// <summary>No certificate or key given (etcd's TLSInfo.Empty).</summary>
    public bool IsEmpty => string.IsNullOrEmpty(CertFile) && string.IsNullOrEmpty(KeyFile);
}
