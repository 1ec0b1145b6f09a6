using System.Text;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using AuthPb = CurpStore.Rpc.Etcd.AuthPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Auth;

/// <summary>An etcd client of one endpoint that carries a token the way etcd's clients do (the <c>token</c> metadata),
/// with helpers for the Auth, KV and Lease calls the auth tests make. Every call is bounded in time.</summary>
internal sealed class AuthClient(GrpcChannel channel)
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    public GrpcChannel Channel { get; } = channel;

    /// <summary>The token sent with every call; null sends none.</summary>
    public string? Token { get; set; }

    /// <summary>The metadata key the token goes in (etcd's clients use "token", its gateway "authorization").</summary>
    public string TokenHeader { get; set; } = "token";

    public static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    public static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    public CallOptions Options => new(Headers: Token is null ? null : new Metadata().Add(TokenHeader, Token), Deadline: DateTime.UtcNow + CallTimeout);

    public Task<TResponse> CallAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> => Channel.UnaryAsync(method, request, Options);

    /// <summary>Authenticates and keeps the token for the calls that follow; returns it.</summary>
    public async Task<string> LoginAsync(string user, string password)
    {
        var response = await Channel.UnaryAsync(AuthMethods.Authenticate, new Pb.AuthenticateRequest { Name = user, Password = password }, new CallOptions(Deadline: DateTime.UtcNow + CallTimeout));
        Token = response.Token;
        return response.Token;
    }

    /// <summary>root (with the root role) and auth enabled, as <c>etcdctl user add root; etcdctl auth enable</c> leaves
    /// it; this client is then logged in as root.</summary>
    public async Task EnableWithRootAsync(string password = "rootpw")
    {
        await CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = "root", Password = password });
        await CallAsync(AuthMethods.UserGrantRole, new Pb.AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await CallAsync(AuthMethods.AuthEnable, new Pb.AuthEnableRequest());
        await LoginAsync("root", password);
    }

    /// <summary>A user with a role of its own holding <paramref name="permissions"/> (type, key, range end).</summary>
    public async Task AddUserWithRoleAsync(string user, string password, params (AuthPb.Permission.Types.Type Type, string Key, string RangeEnd)[] permissions)
    {
        await CallAsync(AuthMethods.UserAdd, new Pb.AuthUserAddRequest { Name = user, Password = password });
        await CallAsync(AuthMethods.RoleAdd, new Pb.AuthRoleAddRequest { Name = user + "-role" });
        foreach (var (type, key, rangeEnd) in permissions)
        {
            await CallAsync(AuthMethods.RoleGrantPermission, new Pb.AuthRoleGrantPermissionRequest
            {
                Name = user + "-role",
                Perm = new AuthPb.Permission { PermType = type, Key = Bytes(key), RangeEnd = Bytes(rangeEnd) },
            });
        }
        await CallAsync(AuthMethods.UserGrantRole, new Pb.AuthUserGrantRoleRequest { User = user, Role = user + "-role" });
    }

    public Task<Pb.PutResponse> PutAsync(string key, string value, long lease = 0, bool prevKv = false) =>
        CallAsync(KVMethods.Put, new Pb.PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease, PrevKv = prevKv });

    public Task<Pb.RangeResponse> GetAsync(string key, string rangeEnd = "", bool serializable = false) =>
        CallAsync(KVMethods.Range, new Pb.RangeRequest { Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Serializable = serializable });

    public Task<Pb.DeleteRangeResponse> DeleteAsync(string key, string rangeEnd = "") =>
        CallAsync(KVMethods.DeleteRange, new Pb.DeleteRangeRequest { Key = Bytes(key), RangeEnd = Bytes(rangeEnd) });

    public async Task<long> GrantAsync(long ttlSeconds) => (await CallAsync(LeaseMethods.LeaseGrant, new Pb.LeaseGrantRequest { TTL = ttlSeconds })).ID;

    /// <summary>Runs a call that must fail and returns its status (etcd's code and message).</summary>
    public static async Task<RpcException> FailsAsync(Func<Task> call, string what)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            return e;
        }
        Assert.Fail($"{what} succeeded; it must fail");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>Asserts that <paramref name="call"/> fails with exactly this gRPC code and etcd message.</summary>
    public static async Task AssertFailsAsync(Func<Task> call, GrpcStatusCode code, string message, string what)
    {
        var failure = await FailsAsync(call, what);
        Assert.AreEqual((code, message), (failure.StatusCode, failure.Detail), what);
    }
}

/// <summary>A clock tests move by hand, for token lifetimes (simple token TTLs, JWT expiry).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
