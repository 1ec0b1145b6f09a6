using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace CurpStore.Store;

/// <summary>
/// The auth store as one immutable value: whether auth is enabled, the auth revision (etcd increments it on every
/// change of users, roles or permissions and on disable; a fresh store starts at 1), and the users and roles by name.
/// A change makes a new value, so the applied state can publish it to other threads (the serving member checks reads
/// and watches against it) and the leader's speculation can keep its own. Permission lookups are cached per value.
/// </summary>
public sealed class AuthState
{
    public static readonly AuthState Initial = new(
        false,
        1,
        ImmutableSortedDictionary.Create<string, AuthUser>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, AuthRole>(StringComparer.Ordinal));

    private readonly ConcurrentDictionary<string, UserPermissions> permissions = new(StringComparer.Ordinal);

    public AuthState(bool enabled, long revision, ImmutableSortedDictionary<string, AuthUser> users, ImmutableSortedDictionary<string, AuthRole> roles)
    {
        Enabled = enabled;
        Revision = revision;
        Users = users;
        Roles = roles;
    }

    public bool Enabled { get; }

    public long Revision { get; }

    public ImmutableSortedDictionary<string, AuthUser> Users { get; }

    public ImmutableSortedDictionary<string, AuthRole> Roles { get; }

    public AuthUser? FindUser(string name) => Users.GetValueOrDefault(name);

    public AuthRole? FindRole(string name) => Roles.GetValueOrDefault(name);

    /// <summary>The union of the user's roles' permissions (etcd's rangePermCache entry); null for an unknown user.</summary>
    public UserPermissions? PermissionsOf(string user) =>
        FindUser(user) is { } found ? permissions.GetOrAdd(user, _ => UserPermissions.Of(found, Roles)) : null;

    /// <summary>Enabled or disabled, at the same revision (etcd's AuthEnable does not change it).</summary>
    public AuthState WithEnabled(bool enabled) => new(enabled, Revision, Users, Roles);

    /// <summary>A change of users, roles or the enabled flag, one revision later.</summary>
    public AuthState Change(
        ImmutableSortedDictionary<string, AuthUser>? users = null,
        ImmutableSortedDictionary<string, AuthRole>? roles = null,
        bool? enabled = null) =>
        new(enabled ?? Enabled, Revision + 1, users ?? Users, roles ?? Roles);
}
