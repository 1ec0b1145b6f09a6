using CurpStore.Rpc;

namespace CurpStore.Server.Transport;

/// <summary>
/// Opens every connection a member makes to other members' peer URLs (core messages, lease and cluster forwards,
/// member list, publish, corruption checks), so all of them use the peer TLS settings: <c>https://</c> peer URLs
/// present <c>--peer-cert-file</c> and trust only servers signed by <c>--peer-trusted-ca-file</c>. One-off calls use
/// <see cref="Shared"/>, one kept channel per peer URL, so they reuse its connection instead of a new TCP (and TLS)
/// handshake per call; disposing closes those channels.
/// </summary>
public sealed class PeerChannels(TlsCredentials? credentials, int maxSharedChannels = PeerChannels.DefaultMaxSharedChannels) : IDisposable
{
    /// <summary>Peer URLs with a kept channel, at most: far above any cluster's members, past and present.</summary>
    public const int DefaultMaxSharedChannels = 256;

    private readonly Dictionary<Uri, GrpcChannel> shared = [];
    private readonly Lock gate = new();
    private bool disposed;

    /// <summary>No peer TLS settings: <c>https://</c> peers are checked against the system's roots. Never disposed: its
    /// kept channels live as long as the process.</summary>
    public static PeerChannels Plain { get; } = new(null);

    /// <summary>How many peer URLs have a kept channel.</summary>
    public int SharedCount
    {
        get
        {
            lock (gate)
            {
                return shared.Count;
            }
        }
    }

    /// <summary>A new channel to <paramref name="address"/>, owned by the caller; <paramref name="options"/> (a fresh
    /// instance, changed here) gets the TLS settings when the address is https.</summary>
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

    /// <summary>The kept channel to <paramref name="address"/>, opened on first use; it belongs to this pool, so callers
    /// must not dispose it.</summary>
    /// <exception cref="InvalidOperationException"><see cref="DefaultMaxSharedChannels"/> (or the configured bound) peer
    /// URLs already have a kept channel.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed (the member is stopping).</exception>
    public GrpcChannel Shared(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (shared.TryGetValue(address, out var channel))
            {
                return channel;
            }
            if (shared.Count >= maxSharedChannels)
            {
                throw new InvalidOperationException($"peer channel pool is full: {maxSharedChannels} peer URLs already have a channel, {address} would exceed the bound");
            }
            channel = Open(address);
            shared.Add(address, channel);
            return channel;
        }
    }

    /// <summary>Closes the kept channels (calls still on them fail as unavailable); later <see cref="Shared"/> calls throw.</summary>
    public void Dispose()
    {
        List<GrpcChannel> channels;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            channels = [.. shared.Values];
            shared.Clear();
        }
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
