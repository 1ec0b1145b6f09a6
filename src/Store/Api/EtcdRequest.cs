namespace CurpStore.Store;

/// <summary>Any request the etcd state machine executes. One subclass per etcd request message; wrapped in an
/// <see cref="EtcdCommand"/> to travel through the log.</summary>
public abstract record EtcdRequest
{
    /// <summary>Who asks (etcd's request header username and auth revision): checked against the auth store when the
    /// request executes, so that every member judges it against the same users, roles and permissions. Null when the
    /// client sent no token; the serving member sets it, never the client.</summary>
    public RequestAuth? Auth { get; init; }
}
