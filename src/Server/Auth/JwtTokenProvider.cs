using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using CurpStore.Rpc;
using CurpStore.Server.Configuration;
using CurpStore.Store;
using RpcStatus = CurpStore.Rpc.GrpcStatusCode;

namespace CurpStore.Server.Auth;

/// <summary>
/// etcd's JWT tokens (<c>--auth-token jwt,sign-method=RS256,priv-key=FILE,pub-key=FILE,ttl=5m</c>): header
/// <c>{"alg":ALG,"typ":"JWT"}</c>, claims <c>{"exp":…,"revision":…,"username":…}</c> as etcd writes them, signed with
/// System.Security.Cryptography. Valid on every member holding the key, until <c>exp</c>; the revision claim is the
/// auth revision the user authenticated at, so any later auth change makes the token "revision of auth store is old".
/// Methods: HS256/384/512 (the key is the priv-key file), RS256/384/512, PS256/384/512 and ES256/384/512 (PEM keys or
/// certificates). With only a public key the member verifies tokens but cannot issue them, as in etcd.
/// </summary>
public sealed class JwtTokenProvider : IAuthTokenProvider
{
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    private readonly string algorithm;
    private readonly JwtSigner signer;
    private readonly TimeSpan ttl;
    private readonly TimeProvider time;

    private JwtTokenProvider(string algorithm, JwtSigner signer, TimeSpan ttl, TimeProvider time)
    {
        this.algorithm = algorithm;
        this.signer = signer;
        this.ttl = ttl;
        this.time = time;
    }

    /// <summary>Loads the keys; a bad configuration throws <see cref="ServerOptionsException"/> with etcd's message.</summary>
    public static JwtTokenProvider Create(AuthTokenOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Options;
        var ttl = DefaultTtl;
        if (settings.TryGetValue("ttl", out var ttlText) && ttlText.Length > 0)
        {
            try
            {
                ttl = ServerOptionsParser.GoDuration("auth-token", ttlText);
            }
            catch (ServerOptionsException)
            {
                throw new ServerOptionsException(AuthTokenOptions.InvalidOptions);
            }
        }
        var privateKey = ReadKeyFile(settings, "priv-key");
        var publicKey = ReadKeyFile(settings, "pub-key");
        var algorithm = settings.GetValueOrDefault("sign-method", "");
        var signer = JwtSigner.Create(algorithm, privateKey, publicKey);
        return new JwtTokenProvider(algorithm, signer, ttl, time ?? TimeProvider.System);
    }

    public string NewTokenPrefix() => "";

    public void EnsureRoom()
    {
        if (!signer.CanSign)
        {
            throw new RpcException(RpcStatus.Unknown, "auth: token signing attempted with verify-only key");
        }
    }

    public string Assign(AuthenticateResponse accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var expires = time.GetUtcNow().Add(ttl).ToUnixTimeSeconds();
        var header = Base64Url(Encoding.UTF8.GetBytes($$"""{"alg":"{{algorithm}}","typ":"JWT"}"""));
        using var claims = new MemoryStream();
        using (var writer = new Utf8JsonWriter(claims))
        {
            // etcd's claims, in the order Go writes a map: exp, revision, username.
            writer.WriteStartObject();
            writer.WriteNumber("exp", expires);
            writer.WriteNumber("revision", accepted.AuthRevision);
            writer.WriteString("username", accepted.User);
            writer.WriteEndObject();
        }
        var signed = header + "." + Base64Url(claims.ToArray());
        return signed + "." + Base64Url(signer.Sign(Encoding.ASCII.GetBytes(signed)));
    }

    public ValueTask<RequestAuth?> IdentifyAsync(string token, long currentAuthRevision, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Verify(token));

    /// <summary>The user and revision of a well-signed, unexpired token with this member's method; else null.</summary>
    public RequestAuth? Verify(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
            if (header.RootElement.ValueKind != JsonValueKind.Object
                || !header.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != algorithm)
            {
                return null; // etcd: "invalid signing method"
            }
            if (!signer.Verify(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2])))
            {
                return null;
            }
            using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
            var root = claims.RootElement;
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            if (root.ValueKind != JsonValueKind.Object
                || (root.TryGetProperty("exp", out var exp) && (exp.ValueKind != JsonValueKind.Number || now >= exp.GetDouble()))
                || (root.TryGetProperty("nbf", out var notBefore) && (notBefore.ValueKind != JsonValueKind.Number || now < notBefore.GetDouble()))
                || !root.TryGetProperty("username", out var user) || user.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("revision", out var revision) || revision.ValueKind != JsonValueKind.Number)
            {
                return null;
            }
            return new RequestAuth(user.GetString()!, (long)revision.GetDouble());
        }
        catch (Exception e) when (e is FormatException or JsonException or CryptographicException)
        {
            return null;
        }
    }

    private static byte[]? ReadKeyFile(IReadOnlyDictionary<string, string> settings, string option)
    {
        if (!settings.TryGetValue(option, out var path) || path.Length == 0)
        {
            return null;
        }
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerOptionsException(AuthTokenOptions.InvalidOptions); // etcd: "problem loading JWT options"
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    /// <summary>One signing method with its key(s).</summary>
    private abstract class JwtSigner
    {
        public abstract bool CanSign { get; }

        public static JwtSigner Create(string algorithm, byte[]? privateKey, byte[]? publicKey)
        {
            if (algorithm.Length != 5 || !int.TryParse(algorithm.AsSpan(2), out var bits) || bits is not (256 or 384 or 512))
            {
                throw new ServerOptionsException("auth: invalid auth signature method");
            }
            var hash = bits switch { 256 => HashAlgorithmName.SHA256, 384 => HashAlgorithmName.SHA384, _ => HashAlgorithmName.SHA512 };
            return algorithm[..2] switch
            {
                "HS" => privateKey is { Length: > 0 } ? new HmacSigner(hash, privateKey) : throw MissingKey(),
                "RS" => RsaSigner.Create(hash, RSASignaturePadding.Pkcs1, privateKey, publicKey),
                "PS" => RsaSigner.Create(hash, RSASignaturePadding.Pss, privateKey, publicKey),
                "ES" => EcdsaSigner.Create(hash, bits == 512 ? 521 : bits, privateKey, publicKey),
                _ => throw new ServerOptionsException("auth: invalid auth signature method"),
            };
        }

        public abstract byte[] Sign(byte[] data);

        public abstract bool Verify(byte[] data, byte[] signature);

        protected static ServerOptionsException MissingKey() => new("auth: missing key data");

        protected static ServerOptionsException Mismatch() => new("auth: public and private keys don't match");

        protected static T Import<T>(byte[] pem, Func<T> create, Func<X509Certificate2, T?> fromCertificate)
            where T : AsymmetricAlgorithm
        {
            var text = Encoding.ASCII.GetString(pem);
            try
            {
                if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                {
                    using var certificate = X509Certificate2.CreateFromPem(text);
                    return fromCertificate(certificate) ?? throw new ServerOptionsException(AuthTokenOptions.InvalidOptions);
                }
                var key = create();
                key.ImportFromPem(text);
                return key;
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                throw new ServerOptionsException(AuthTokenOptions.InvalidOptions);
            }
        }
    }

    private sealed class HmacSigner(HashAlgorithmName hash, byte[] key) : JwtSigner
    {
        public override bool CanSign => true;

        public override byte[] Sign(byte[] data) => CryptographicOperations.HmacData(hash, key, data);

        public override bool Verify(byte[] data, byte[] signature) => CryptographicOperations.FixedTimeEquals(Sign(data), signature);
    }

    private sealed class RsaSigner(HashAlgorithmName hash, RSASignaturePadding padding, RSA key, bool canSign) : JwtSigner
    {
        public override bool CanSign => canSign;

        public static RsaSigner Create(HashAlgorithmName hash, RSASignaturePadding padding, byte[]? privatePem, byte[]? publicPem)
        {
            var privateKey = privatePem is null ? null : Import(privatePem, RSA.Create, c => c.GetRSAPublicKey());
            var publicKey = publicPem is null ? null : Import(publicPem, RSA.Create, c => c.GetRSAPublicKey());
            if (privateKey is null)
            {
                return publicKey is null ? throw MissingKey() : new RsaSigner(hash, padding, publicKey, canSign: false);
            }
            if (publicKey is not null && !Same(privateKey.ExportParameters(false), publicKey.ExportParameters(false)))
            {
                throw Mismatch();
            }
            return new RsaSigner(hash, padding, privateKey, canSign: true);
        }

        public override byte[] Sign(byte[] data) => key.SignData(data, hash, padding);

        public override bool Verify(byte[] data, byte[] signature) => key.VerifyData(data, signature, hash, padding);

        private static bool Same(RSAParameters a, RSAParameters b) =>
            a.Modulus.AsSpan().SequenceEqual(b.Modulus) && a.Exponent.AsSpan().SequenceEqual(b.Exponent);
    }

    private sealed class EcdsaSigner(HashAlgorithmName hash, ECDsa key, bool canSign) : JwtSigner
    {
        public override bool CanSign => canSign;

        public static EcdsaSigner Create(HashAlgorithmName hash, int curveBits, byte[]? privatePem, byte[]? publicPem)
        {
            var privateKey = privatePem is null ? null : Import(privatePem, ECDsa.Create, c => c.GetECDsaPublicKey());
            var publicKey = publicPem is null ? null : Import(publicPem, ECDsa.Create, c => c.GetECDsaPublicKey());
            var key = privateKey ?? publicKey ?? throw MissingKey();
            if (key.KeySize != curveBits)
            {
                throw new ServerOptionsException(AuthTokenOptions.InvalidOptions); // golang-jwt: the curve must fit the method
            }
            if (privateKey is not null && publicKey is not null && !Same(privateKey.ExportParameters(false).Q, publicKey.ExportParameters(false).Q))
            {
                throw Mismatch();
            }
            return new EcdsaSigner(hash, key, canSign: privateKey is not null);
        }

        public override byte[] Sign(byte[] data) => key.SignData(data, hash); // r || s, as JWT wants

        public override bool Verify(byte[] data, byte[] signature) => key.VerifyData(data, signature, hash);

        private static bool Same(ECPoint a, ECPoint b) => a.X.AsSpan().SequenceEqual(b.X) && a.Y.AsSpan().SequenceEqual(b.Y);
    }
}
