namespace CurpStore.Store;

/// <summary>etcd's AuthEnableRequest: needs the root user with the root role.</summary>
public sealed record AuthEnableRequest : EtcdRequest;

/// <summary>etcd's AuthDisableRequest.</summary>
public sealed record AuthDisableRequest : EtcdRequest;

/// <summary>etcd's AuthStatusRequest: whether auth is on and the auth revision.</summary>
public sealed record AuthStatusRequest : EtcdRequest;

/// <summary>
/// etcd's InternalAuthenticateRequest: the password was already checked by the serving member (against the hash,
/// which is slow and must not run in the state machine), so the log never holds it. <see cref="CheckedRevision"/> is
/// the auth revision the password was checked at: if the auth store changed since (a password change, a deleted
/// user), the request fails with <see cref="EtcdError.AuthOldRevision"/> and the member checks again, as etcd's
/// Authenticate retries. A non-empty <see cref="SimpleTokenPrefix"/> asks for an etcd simple token, prefix + "." +
/// log index.
/// </summary>
public sealed record AuthenticateRequest : EtcdRequest
{
    public string Name { get; init; } = "";

    public string SimpleTokenPrefix { get; init; } = "";

    public long CheckedRevision { get; init; }
}

/// <summary>etcd's AuthUserAddRequest with the password already hashed by the serving member (etcd 3.5's
/// hashedPassword); a user with <see cref="NoPassword"/> has no password and cannot authenticate.</summary>
public sealed record UserAddRequest : EtcdRequest
{
    public string Name { get; init; } = "";

    public string PasswordHash { get; init; } = "";

    public bool NoPassword { get; init; }
}

public sealed record UserGetRequest : EtcdRequest
{
    public string Name { get; init; } = "";
}

public sealed record UserListRequest : EtcdRequest;

public sealed record UserDeleteRequest : EtcdRequest
{
    public string Name { get; init; } = "";
}

/// <summary>etcd's AuthUserChangePasswordRequest with the new password already hashed.</summary>
public sealed record UserChangePasswordRequest : EtcdRequest
{
    public string Name { get; init; } = "";

    public string PasswordHash { get; init; } = "";
}

public sealed record UserGrantRoleRequest : EtcdRequest
{
    public string User { get; init; } = "";

    public string Role { get; init; } = "";
}

public sealed record UserRevokeRoleRequest : EtcdRequest
{
    public string Name { get; init; } = "";

    public string Role { get; init; } = "";
}

public sealed record RoleAddRequest : EtcdRequest
{
    public string Name { get; init; } = "";
}

public sealed record RoleGetRequest : EtcdRequest
{
    public string Role { get; init; } = "";
}

public sealed record RoleListRequest : EtcdRequest;

public sealed record RoleDeleteRequest : EtcdRequest
{
    public string Role { get; init; } = "";
}

/// <summary>etcd's AuthRoleGrantPermissionRequest; a null <see cref="Permission"/> is etcd's missing perm field.</summary>
public sealed record RoleGrantPermissionRequest : EtcdRequest
{
    public string Name { get; init; } = "";

    public AuthPermission? Permission { get; init; }
}

/// <summary>etcd's AuthRoleRevokePermissionRequest: removes the permission with exactly this key and range end.</summary>
public sealed record RoleRevokePermissionRequest : EtcdRequest
{
    public string Role { get; init; } = "";

    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];
}
