using System.Collections.Immutable;

namespace CurpStore.Server.Auth;

/// <summary>Which tokens <c>Authenticate</c> hands out (etcd's <c>--auth-token</c>).</summary>
public enum AuthTokenType
{
    /// <summary>etcd's default: 16 random letters + "." + the log index, kept in each member's memory.</summary>
    Simple,

    /// <summary>Signed JSON web tokens, valid on every member that has the key.</summary>
    Jwt,
}

/// <summary>
/// etcd's <c>--auth-token</c> value (<c>simple</c>, or <c>jwt,sign-method=RS256,priv-key=FILE,pub-key=FILE,ttl=5m</c>)
/// and <c>--auth-token-ttl</c> (seconds a simple token lives after its last use). Parsed as etcd parses it: the type,
/// then comma-separated key=value options, each at most once; anything else is "auth: invalid auth options".
/// </summary>
public sealed record AuthTokenOptions
{
    public const string InvalidOptions = "auth: invalid auth options";

    public AuthTokenType Type { get; init; } = AuthTokenType.Simple;

    /// <summary>The type-specific options (for JWT: sign-method, pub-key, priv-key, ttl).</summary>
    public ImmutableSortedDictionary<string, string> Options { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>etcd's --auth-token-ttl (default 300 s): a simple token unused for this long is forgotten.</summary>
    public int SimpleTokenTtlSeconds { get; init; } = 300;

    /// <summary>Parses an <c>--auth-token</c> value; throws <see cref="FormatException"/> with etcd's message.</summary>
    public static AuthTokenOptions Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split(',');
        var type = parts[0] switch
        {
            "simple" => AuthTokenType.Simple,
            "jwt" => AuthTokenType.Jwt,
            _ => throw new FormatException(InvalidOptions),
        };
        var options = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var option in parts.Skip(1))
        {
            var pair = option.Split('=');
            if (pair.Length != 2 || !options.TryAdd(pair[0], pair[1]))
            {
                throw new FormatException(InvalidOptions);
            }
        }
        return new AuthTokenOptions { Type = type, Options = options.ToImmutable() };
    }
}
