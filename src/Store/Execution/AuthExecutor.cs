using System.Collections.Immutable;
using System.Globalization;
using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// etcd's auth store operations (auth/store.go) as replicated commands, with its checks, order and errors. The caller
/// (<see cref="CommandExecutor"/>) has already checked the requester's permission. Every change of users, roles or
/// permissions, and disabling, moves the auth revision by one; enabling does not; a request that changes nothing
/// (granting a role the user has, enabling twice) moves nothing.
/// </summary>
internal static class AuthExecutor
{
    public static ICommandResult Execute(IMvccState state, EtcdRequest request, ulong index)
    {
        var auth = state.Auth;
        var header = new ResponseHeader(state.Revision);
        object result = request switch
        {
            AuthEnableRequest => Enable(auth),
            AuthDisableRequest => auth.Enabled ? auth.Change(enabled: false) : auth,
            AuthStatusRequest => new AuthStatusResponse { Enabled = auth.Enabled, AuthRevision = auth.Revision },
            AuthenticateRequest authenticate => Authenticate(auth, authenticate, index),
            UserAddRequest add => AddUser(auth, add),
            UserGetRequest get => auth.FindUser(get.Name) is { } user ? new AuthNamesResponse { Names = user.Roles } : EtcdError.UserNotFound,
            UserListRequest => new AuthNamesResponse { Names = [.. auth.Users.Keys] },
            UserDeleteRequest delete => DeleteUser(auth, delete),
            UserChangePasswordRequest change => auth.FindUser(change.Name) is { } user
                ? auth.Change(users: auth.Users.SetItem(user.Name, user with { PasswordHash = user.NoPassword ? "" : change.PasswordHash }))
                : EtcdError.UserNotFound,
            UserGrantRoleRequest grant => GrantRole(auth, grant),
            UserRevokeRoleRequest revoke => RevokeRole(auth, revoke),
            RoleAddRequest add => AddRole(auth, add),
            RoleGetRequest get => auth.FindRole(get.Role) is { } role
                ? new RoleGetResponse { Permissions = role.Name == AuthRole.RootName ? [AuthPermission.Root] : role.Permissions }
                : EtcdError.RoleNotFound,
            RoleListRequest => new AuthNamesResponse { Names = [.. auth.Roles.Keys] },
            RoleDeleteRequest delete => DeleteRole(auth, delete),
            RoleGrantPermissionRequest grant => GrantPermission(auth, grant),
            RoleRevokePermissionRequest revoke => RevokePermission(auth, revoke),
            _ => throw new ArgumentException($"not an auth request: {request.GetType().Name}", nameof(request)),
        };
        switch (result)
        {
            case EtcdError error:
                return error;
            case EtcdResponse response:
                return response with { Header = header };
            case AuthState next:
                if (!ReferenceEquals(next, auth))
                {
                    state.SetAuth(next);
                }
                return new AuthChangeResponse { Header = header };
            default:
                throw new InvalidOperationException($"unexpected auth result {result.GetType().Name}");
        }
    }

    public static bool IsAuthRequest(EtcdRequest request) => request is AuthEnableRequest or AuthDisableRequest or AuthStatusRequest
        or AuthenticateRequest or UserAddRequest or UserGetRequest or UserListRequest or UserDeleteRequest or UserChangePasswordRequest
        or UserGrantRoleRequest or UserRevokeRoleRequest or RoleAddRequest or RoleGetRequest or RoleListRequest or RoleDeleteRequest
        or RoleGrantPermissionRequest or RoleRevokePermissionRequest;

    private static object Enable(AuthState auth)
    {
        if (auth.Enabled)
        {
            return auth; // etcd: already enabled, ignored
        }
        return auth.FindUser(AuthUser.RootName) switch
        {
            null => EtcdError.RootUserNotExist,
            { IsRoot: false } => EtcdError.RootRoleNotExist,
            _ => auth.WithEnabled(true),
        };
    }

    /// <summary>The password was checked by the serving member at <see cref="AuthenticateRequest.CheckedRevision"/>;
    /// a change since then (this very user deleted, its password changed) makes it check again.</summary>
    private static object Authenticate(AuthState auth, AuthenticateRequest request, ulong index)
    {
        if (!auth.Enabled)
        {
            return EtcdError.AuthNotEnabled;
        }
        if (auth.FindUser(request.Name) is not { NoPassword: false })
        {
            return EtcdError.AuthFailed;
        }
        if (request.CheckedRevision != auth.Revision)
        {
            return EtcdError.AuthOldRevision;
        }
        var token = request.SimpleTokenPrefix.Length == 0 ? "" : request.SimpleTokenPrefix + "." + index.ToString(CultureInfo.InvariantCulture);
        return new AuthenticateResponse { User = request.Name, AuthRevision = auth.Revision, Token = token };
    }

    private static object AddUser(AuthState auth, UserAddRequest request)
    {
        if (request.Name.Length == 0)
        {
            return EtcdError.UserEmpty;
        }
        if (auth.FindUser(request.Name) is not null)
        {
            return EtcdError.UserAlreadyExists;
        }
        var user = new AuthUser(request.Name, request.NoPassword ? "" : request.PasswordHash, request.NoPassword, []);
        return auth.Change(users: auth.Users.Add(user.Name, user));
    }

    private static object DeleteUser(AuthState auth, UserDeleteRequest request)
    {
        if (auth.Enabled && request.Name == AuthUser.RootName)
        {
            return EtcdError.InvalidAuthManagement;
        }
        return auth.FindUser(request.Name) is null ? EtcdError.UserNotFound : auth.Change(users: auth.Users.Remove(request.Name));
    }

    private static object GrantRole(AuthState auth, UserGrantRoleRequest request)
    {
        if (auth.FindUser(request.User) is not { } user)
        {
            return EtcdError.UserNotFound;
        }
        if (request.Role != AuthRole.RootName && auth.FindRole(request.Role) is null)
        {
            return EtcdError.RoleNotFound; // the root role needs no role entry
        }
        var at = user.Roles.BinarySearch(request.Role, StringComparer.Ordinal);
        if (at >= 0)
        {
            return auth; // etcd: already granted, ignored
        }
        var granted = user with { Roles = user.Roles.Insert(~at, request.Role) };
        return auth.Change(users: auth.Users.SetItem(user.Name, granted));
    }

    private static object RevokeRole(AuthState auth, UserRevokeRoleRequest request)
    {
        if (auth.Enabled && request.Name == AuthUser.RootName && request.Role == AuthRole.RootName)
        {
            return EtcdError.InvalidAuthManagement;
        }
        if (auth.FindUser(request.Name) is not { } user)
        {
            return EtcdError.UserNotFound;
        }
        if (!user.Roles.Contains(request.Role))
        {
            return EtcdError.RoleNotGranted;
        }
        return auth.Change(users: auth.Users.SetItem(user.Name, user with { Roles = user.Roles.Remove(request.Role) }));
    }

    private static object AddRole(AuthState auth, RoleAddRequest request)
    {
        if (request.Name.Length == 0)
        {
            return EtcdError.RoleEmpty;
        }
        if (auth.FindRole(request.Name) is not null)
        {
            return EtcdError.RoleAlreadyExists;
        }
        return auth.Change(roles: auth.Roles.Add(request.Name, new AuthRole(request.Name, [])));
    }

    /// <summary>Deleting a role also takes it away from every user that has it.</summary>
    private static object DeleteRole(AuthState auth, RoleDeleteRequest request)
    {
        if (auth.Enabled && request.Role == AuthRole.RootName)
        {
            return EtcdError.InvalidAuthManagement;
        }
        if (auth.FindRole(request.Role) is null)
        {
            return EtcdError.RoleNotFound;
        }
        var users = auth.Users;
        foreach (var user in auth.Users.Values.Where(u => u.Roles.Contains(request.Role)))
        {
            users = users.SetItem(user.Name, user with { Roles = user.Roles.Remove(request.Role) });
        }
        return auth.Change(users: users, roles: auth.Roles.Remove(request.Role));
    }

    /// <summary>etcd: the permission whose key is the first at or above the new one's is updated when it has the same
    /// range end; otherwise the new one is inserted in key order.</summary>
    private static object GrantPermission(AuthState auth, RoleGrantPermissionRequest request)
    {
        if (request.Permission is not { } permission)
        {
            return EtcdError.PermissionNotGiven;
        }
        if (!permission.IsValidRange)
        {
            return EtcdError.InvalidAuthManagement;
        }
        if (auth.FindRole(request.Name) is not { } role)
        {
            return EtcdError.RoleNotFound;
        }
        var permissions = role.Permissions;
        var at = 0;
        while (at < permissions.Length && permissions[at].Key.AsSpan().SequenceCompareTo(permission.Key) < 0)
        {
            at++;
        }
        if (at < permissions.Length && permissions[at].SameRange(permission.Key, permission.RangeEnd))
        {
            permissions = permissions.SetItem(at, permissions[at] with { Type = permission.Type });
        }
        else
        {
            var after = at;
            while (after < permissions.Length && permissions[after].Key.AsSpan().SequenceEqual(permission.Key))
            {
                after++; // equal keys keep their order (etcd's sort is stable at these sizes)
            }
            permissions = permissions.Insert(after, permission);
        }
        return auth.Change(roles: auth.Roles.SetItem(role.Name, role with { Permissions = permissions }));
    }

    private static object RevokePermission(AuthState auth, RoleRevokePermissionRequest request)
    {
        if (auth.FindRole(request.Role) is not { } role)
        {
            return EtcdError.RoleNotFound;
        }
        var kept = role.Permissions.RemoveAll(p => p.SameRange(request.Key, request.RangeEnd));
        if (kept.Length == role.Permissions.Length)
        {
            return EtcdError.PermissionNotGranted;
        }
        return auth.Change(roles: auth.Roles.SetItem(role.Name, role with { Permissions = kept }));
    }
}
