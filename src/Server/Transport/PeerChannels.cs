using CurpStore.Rpc;

namespace CurpStore.Server.Transport;

/// <summary>
/// Opens every connection a member makes to other members' peer URLs (core messages, lease and cluster forwards,
/// member list, publish, corruption checks), so all of them use the peer TLS settings: <c>https://</c> peer URLs
/// present <c>--peer-cert-file</c> and trust only servers signed by <c>--peer-trusted-ca-file</c>.
/// </summary>
public sealed class PeerChannels(TlsCredentials? credentials)
{
    /// <summary>No peer TLS settings: <c>https://</c> peers are checked against the system's roots.</summary>
    public static PeerChannels Plain { get; } = new(null);

    /// <summary>A channel to <paramref name="address"/>; <paramref name="options"/> (a fresh instance, changed here)
    /// gets the TLS settings when the address is https.</summary>
    public GrpcChannel Open(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new GrpcChannelOptions();
        if (address.Scheme == Uri.UriSchemeHttps && credentials is not null)
        {
            options.SslOptions = credentials.ClientOptions();
        }
        return new GrpcChannel(address, options);
    }
}
