using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace CurpStore.Store;

/// <summary>
/// The auth store in the engine's meta space (etcd's authUsers, authRoles and auth buckets): "auth/enabled",
/// "auth/revision", one "auth/user/NAME" and one "auth/role/NAME" entry each. Being meta entries, they travel in
/// snapshots and are restored with them. Encodings are length-prefixed little-endian fields, like the rest of the
/// meta space.
/// </summary>
internal static class AuthMeta
{
    public const string Prefix = "auth/";
    public const string Enabled = "auth/enabled";
    public const string Revision = "auth/revision";
    public const string UserPrefix = "auth/user/";
    public const string RolePrefix = "auth/role/";

    /// <summary>Rebuilds the auth store from the meta entries (a store without them is <see cref="AuthState.Initial"/>).</summary>
    public static AuthState Load(IKvEngine engine)
    {
        var users = AuthState.Initial.Users.ToBuilder();
        var roles = AuthState.Initial.Roles.ToBuilder();
        foreach (var (_, value) in engine.ScanMeta(UserPrefix))
        {
            var user = DecodeUser(value);
            users[user.Name] = user;
        }
        foreach (var (_, value) in engine.ScanMeta(RolePrefix))
        {
            var role = DecodeRole(value);
            roles[role.Name] = role;
        }
        var enabled = engine.GetMeta(Enabled) is [1];
        var revision = StoreMeta.DecodeInt64(engine.GetMeta(Revision)) ?? AuthState.Initial.Revision;
        return new AuthState(enabled, revision, users.ToImmutable(), roles.ToImmutable());
    }

    /// <summary>The meta writes that turn <paramref name="before"/> into <paramref name="after"/>: changed entries
    /// only (unchanged users and roles are the same objects in both).</summary>
    public static void WriteChanges(AuthState before, AuthState after, KvWriteBatch batch)
    {
        if (before.Enabled != after.Enabled)
        {
            batch.Meta[Enabled] = [after.Enabled ? (byte)1 : (byte)0];
        }
        if (before.Revision != after.Revision)
        {
            batch.Meta[Revision] = StoreMeta.EncodeInt64(after.Revision);
        }
        WriteChanges(before.Users, after.Users, UserPrefix, EncodeUser, batch);
        WriteChanges(before.Roles, after.Roles, RolePrefix, EncodeRole, batch);
    }

    private static void WriteChanges<T>(ImmutableSortedDictionary<string, T> before, ImmutableSortedDictionary<string, T> after, string prefix, Func<T, byte[]> encode, KvWriteBatch batch)
        where T : class
    {
        if (ReferenceEquals(before, after))
        {
            return;
        }
        foreach (var (name, value) in after)
        {
            if (!before.TryGetValue(name, out var old) || !ReferenceEquals(old, value))
            {
                batch.Meta[prefix + name] = encode(value);
            }
        }
        foreach (var name in before.Keys)
        {
            if (!after.ContainsKey(name))
            {
                batch.Meta[prefix + name] = null;
            }
        }
    }

    public static byte[] EncodeUser(AuthUser user)
    {
        var output = new List<byte>();
        WriteString(output, user.Name);
        WriteString(output, user.PasswordHash);
        output.Add(user.NoPassword ? (byte)1 : (byte)0);
        WriteInt32(output, user.Roles.Length);
        foreach (var role in user.Roles)
        {
            WriteString(output, role);
        }
        return [.. output];
    }

    public static AuthUser DecodeUser(byte[] bytes)
    {
        var input = new Reader(bytes);
        var name = input.String();
        var hash = input.String();
        var noPassword = input.Byte() != 0;
        var roles = ImmutableArray.CreateBuilder<string>();
        for (var count = input.Int32(); count > 0; count--)
        {
            roles.Add(input.String());
        }
        input.ExpectEnd();
        return new AuthUser(name, hash, noPassword, roles.ToImmutable());
    }

    public static byte[] EncodeRole(AuthRole role)
    {
        var output = new List<byte>();
        WriteString(output, role.Name);
        WriteInt32(output, role.Permissions.Length);
        foreach (var permission in role.Permissions)
        {
            output.Add((byte)permission.Type);
            WriteBytes(output, permission.Key);
            WriteBytes(output, permission.RangeEnd);
        }
        return [.. output];
    }

    public static AuthRole DecodeRole(byte[] bytes)
    {
        var input = new Reader(bytes);
        var name = input.String();
        var permissions = ImmutableArray.CreateBuilder<AuthPermission>();
        for (var count = input.Int32(); count > 0; count--)
        {
            permissions.Add(new AuthPermission((PermissionType)input.Byte(), input.Bytes(), input.Bytes()));
        }
        input.ExpectEnd();
        return new AuthRole(name, permissions.ToImmutable());
    }

    private static void WriteInt32(List<byte> output, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        output.AddRange(bytes);
    }

    private static void WriteBytes(List<byte> output, byte[] value)
    {
        WriteInt32(output, value.Length);
        output.AddRange(value);
    }

    private static void WriteString(List<byte> output, string value) => WriteBytes(output, Encoding.UTF8.GetBytes(value));

    /// <summary>Reads what the writers above wrote; anything else is a corrupt meta entry.</summary>
    private ref struct Reader(byte[] bytes)
    {
        private readonly byte[] bytes = bytes;
        private int position;

        public byte Byte() => position < bytes.Length ? bytes[position++] : throw Corrupt();

        public int Int32()
        {
            if (bytes.Length - position < 4)
            {
                throw Corrupt();
            }
            var value = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            position += 4;
            return value >= 0 ? value : throw Corrupt();
        }

        public byte[] Bytes()
        {
            var length = Int32();
            if (bytes.Length - position < length)
            {
                throw Corrupt();
            }
            var value = bytes.AsSpan(position, length).ToArray();
            position += length;
            return value;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public readonly void ExpectEnd()
        {
            if (position != bytes.Length)
            {
                throw Corrupt();
            }
        }

        private readonly InvalidDataException Corrupt() => new($"corrupt auth meta entry at byte {position} of {bytes.Length}");
    }
}
