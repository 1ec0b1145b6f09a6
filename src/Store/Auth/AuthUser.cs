using System.Collections.Immutable;

namespace CurpStore.Store;

/// <summary>etcd's authpb.User: the password hash (computed by the serving member; see <see cref="UserAddRequest"/>),
/// the no-password option and the granted roles, sorted (etcd keeps them sorted and looks "root" up by binary
/// search).</summary>
public sealed record AuthUser(string Name, string PasswordHash, bool NoPassword, ImmutableArray<string> Roles)
{
    public const string RootName = "root";

    public bool HasRole(string role) => Roles.BinarySearch(role, StringComparer.Ordinal) >= 0;

    public bool IsRoot => HasRole(AuthRole.RootName);
}

/// <summary>etcd's authpb.Role: its permissions, ordered by key.</summary>
public sealed record AuthRole(string Name, ImmutableArray<AuthPermission> Permissions)
{
    public const string RootName = "root";
}
