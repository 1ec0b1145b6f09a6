namespace CurpStore.Store;

/// <summary>The answer to an auth request that returns nothing but a header (enable, disable, user and role changes):
/// etcd's header-only Auth*Response messages.</summary>
public sealed record AuthChangeResponse : EtcdResponse;

/// <summary>etcd's AuthStatusResponse.</summary>
public sealed record AuthStatusResponse : EtcdResponse
{
    public bool Enabled { get; init; }

    public long AuthRevision { get; init; }
}

/// <summary>
/// What the store records for an authentication: the user and the auth revision at which it was accepted (a JWT
/// carries that revision) and, for simple tokens, the token (prefix + "." + log index, the same on every member). The
/// serving member turns this into etcd's AuthenticateResponse.
/// </summary>
public sealed record AuthenticateResponse : EtcdResponse
{
    public string User { get; init; } = "";

    public long AuthRevision { get; init; }

    public string Token { get; init; } = "";
}

/// <summary>A list of names: a user's roles (UserGet), every user (UserList) or every role (RoleList), in etcd's
/// order.</summary>
public sealed record AuthNamesResponse : EtcdResponse
{
    public IReadOnlyList<string> Names { get; init; } = [];
}

/// <summary>etcd's AuthRoleGetResponse: the role's permissions, ordered by key.</summary>
public sealed record RoleGetResponse : EtcdResponse
{
    public IReadOnlyList<AuthPermission> Permissions { get; init; } = [];
}
