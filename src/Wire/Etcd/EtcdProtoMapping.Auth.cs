using AuthPb = CurpStore.Rpc.Etcd.AuthPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>
/// The Auth service. Requests map field for field, except passwords: the store takes only the hash the serving member
/// computed (etcd 3.5's hashedPassword field), so a plain password never reaches the log; <c>ToStore</c> reads the
/// hash field and ignores the password field. Authenticate has no etcd message of its own in the log (etcd's is
/// internal) and answers are built per call, since several RPCs share one store answer.
/// </summary>
public static partial class EtcdProtoMapping
{
    public static Store.UserAddRequest ToStore(Pb.AuthUserAddRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.UserAddRequest { Name = request.Name, PasswordHash = request.HashedPassword, NoPassword = request.Options?.NoPassword ?? false };
    }

    public static Pb.AuthUserAddRequest ToProto(Store.UserAddRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.AuthUserAddRequest
        {
            Name = request.Name,
            HashedPassword = request.PasswordHash,
            Options = request.NoPassword ? new AuthPb.UserAddOptions { NoPassword = true } : null,
        };
    }

    public static Store.UserChangePasswordRequest ToStore(Pb.AuthUserChangePasswordRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.UserChangePasswordRequest { Name = request.Name, PasswordHash = request.HashedPassword };
    }

    public static Pb.AuthUserChangePasswordRequest ToProto(Store.UserChangePasswordRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.AuthUserChangePasswordRequest { Name = request.Name, HashedPassword = request.PasswordHash };
    }

    public static Store.RoleGrantPermissionRequest ToStore(Pb.AuthRoleGrantPermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.RoleGrantPermissionRequest { Name = request.Name, Permission = request.Perm is null ? null : ToStore(request.Perm) };
    }

    public static Pb.AuthRoleGrantPermissionRequest ToProto(Store.RoleGrantPermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.AuthRoleGrantPermissionRequest { Name = request.Name, Perm = request.Permission is null ? null : ToProto(request.Permission) };
    }

    public static Store.RoleRevokePermissionRequest ToStore(Pb.AuthRoleRevokePermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.RoleRevokePermissionRequest { Role = request.Role, Key = Copy(request.Key), RangeEnd = Copy(request.RangeEnd) };
    }

    public static Pb.AuthRoleRevokePermissionRequest ToProto(Store.RoleRevokePermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.AuthRoleRevokePermissionRequest { Role = request.Role, Key = Wrap(request.Key), RangeEnd = Wrap(request.RangeEnd) };
    }

    /// <summary>Permission type numbers pass through as they are (the store refuses nothing for them, as etcd).</summary>
    public static Store.AuthPermission ToStore(AuthPb.Permission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return new Store.AuthPermission((Store.PermissionType)(int)permission.PermType, Copy(permission.Key), Copy(permission.RangeEnd));
    }

    public static AuthPb.Permission ToProto(Store.AuthPermission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return new AuthPb.Permission { PermType = (AuthPb.Permission.Types.Type)(int)permission.Type, Key = Wrap(permission.Key), RangeEnd = Wrap(permission.RangeEnd) };
    }

    public static Pb.AuthStatusResponse ToProto(Store.AuthStatusResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Pb.AuthStatusResponse { Header = ToProto(response.Header, ids), Enabled = response.Enabled, AuthRevision = (ulong)response.AuthRevision };
    }

    public static Pb.AuthRoleGetResponse ToProto(Store.RoleGetResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.AuthRoleGetResponse { Header = ToProto(response.Header, ids) };
        proto.Perm.AddRange(response.Permissions.Select(ToProto));
        return proto;
    }

    /// <summary>Any auth request the store executes whose etcd message is its own (all but Authenticate).</summary>
    private static Google.Protobuf.IMessage? AuthToProto(Store.EtcdRequest request) => request switch
    {
        Store.AuthEnableRequest => new Pb.AuthEnableRequest(),
        Store.AuthDisableRequest => new Pb.AuthDisableRequest(),
        Store.AuthStatusRequest => new Pb.AuthStatusRequest(),
        Store.UserAddRequest add => ToProto(add),
        Store.UserGetRequest get => new Pb.AuthUserGetRequest { Name = get.Name },
        Store.UserListRequest => new Pb.AuthUserListRequest(),
        Store.UserDeleteRequest delete => new Pb.AuthUserDeleteRequest { Name = delete.Name },
        Store.UserChangePasswordRequest change => ToProto(change),
        Store.UserGrantRoleRequest grant => new Pb.AuthUserGrantRoleRequest { User = grant.User, Role = grant.Role },
        Store.UserRevokeRoleRequest revoke => new Pb.AuthUserRevokeRoleRequest { Name = revoke.Name, Role = revoke.Role },
        Store.RoleAddRequest add => new Pb.AuthRoleAddRequest { Name = add.Name },
        Store.RoleGetRequest get => new Pb.AuthRoleGetRequest { Role = get.Role },
        Store.RoleListRequest => new Pb.AuthRoleListRequest(),
        Store.RoleDeleteRequest delete => new Pb.AuthRoleDeleteRequest { Role = delete.Role },
        Store.RoleGrantPermissionRequest grant => ToProto(grant),
        Store.RoleRevokePermissionRequest revoke => ToProto(revoke),
        _ => null,
    };

    private static Store.EtcdRequest? AuthToStore(Google.Protobuf.IMessage request) => request switch
    {
        Pb.AuthEnableRequest => new Store.AuthEnableRequest(),
        Pb.AuthDisableRequest => new Store.AuthDisableRequest(),
        Pb.AuthStatusRequest => new Store.AuthStatusRequest(),
        Pb.AuthUserAddRequest add => ToStore(add),
        Pb.AuthUserGetRequest get => new Store.UserGetRequest { Name = get.Name },
        Pb.AuthUserListRequest => new Store.UserListRequest(),
        Pb.AuthUserDeleteRequest delete => new Store.UserDeleteRequest { Name = delete.Name },
        Pb.AuthUserChangePasswordRequest change => ToStore(change),
        Pb.AuthUserGrantRoleRequest grant => new Store.UserGrantRoleRequest { User = grant.User, Role = grant.Role },
        Pb.AuthUserRevokeRoleRequest revoke => new Store.UserRevokeRoleRequest { Name = revoke.Name, Role = revoke.Role },
        Pb.AuthRoleAddRequest add => new Store.RoleAddRequest { Name = add.Name },
        Pb.AuthRoleGetRequest get => new Store.RoleGetRequest { Role = get.Role },
        Pb.AuthRoleListRequest => new Store.RoleListRequest(),
        Pb.AuthRoleDeleteRequest delete => new Store.RoleDeleteRequest { Role = delete.Role },
        Pb.AuthRoleGrantPermissionRequest grant => ToStore(grant),
        Pb.AuthRoleRevokePermissionRequest revoke => ToStore(revoke),
        _ => null,
    };
}
