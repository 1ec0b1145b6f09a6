using System.Security.Cryptography.X509Certificates;
using CurpStore.Rpc;
using CurpStore.Server.Auth;
using CurpStore.Wire.Etcd;
using CurpStore.Store;

namespace CurpStore.Server.Facade;

/// <summary>
/// Who a client is, for every service of a member: etcd's AuthInfoFromCtx. When auth is enabled, the token in the
/// <c>token</c> metadata (etcd's clients) or <c>authorization</c> (etcd's gateway) names the user; no token means no
/// user, and the store answers "user name is empty" where one is needed; a token that is not valid fails the call with
/// "etcdserver: invalid auth token" (Unauthenticated), and clients authenticate again. The permission itself is checked
/// by the store when the request executes (<see cref="AuthChecker"/>); watches are checked here, with the same rules.
/// </summary>
public sealed class AuthGate(EtcdStateMachine machine, IAuthTokenProvider tokens)
{
    public const string TokenHeader = "token";
    public const string GatewayTokenHeader = "authorization";

    public IAuthTokenProvider Tokens { get; } = tokens;

    /// <summary>The applied auth store (published by the store; safe to read here).</summary>
    public AuthState State => machine.Auth;

    /// <summary>The requester of a call, or null when auth is off or the call carries no token. Without a token, a
    /// client certificate (asked for only with <c>--client-cert-auth</c>, and then verified) names the user by its
    /// common name, as etcd's AuthInfoFromTLS does.</summary>
    /// <exception cref="RpcException">The token is not valid.</exception>
    public async ValueTask<RequestAuth?> IdentifyAsync(ServerCallContext call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var auth = machine.Auth;
        if (!auth.Enabled)
        {
            return null;
        }
        var token = call.RequestHeaders.GetValue(TokenHeader) ?? call.RequestHeaders.GetValue(GatewayTokenHeader);
        if (token is null)
        {
            return call.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } commonName
                ? new RequestAuth(commonName, auth.Revision)
                : null;
        }
        return await Tokens.IdentifyAsync(token, auth.Revision, cancellationToken).ConfigureAwait(false)
            ?? throw EtcdProtoMapping.ToRpcException(EtcdError.InvalidAuthToken);
    }

    /// <summary>Read permission on a key or range for the call's requester: null when allowed, else the error etcd
    /// gives (including an invalid token).</summary>
    public async ValueTask<EtcdError?> CheckReadAsync(ServerCallContext call, byte[] key, byte[] rangeEnd, CancellationToken cancellationToken)
    {
        if (!machine.Auth.Enabled)
        {
            return null;
        }
        RequestAuth? who;
        try
        {
            who = await IdentifyAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.Detail == EtcdError.InvalidAuthToken.Message)
        {
            return EtcdError.InvalidAuthToken;
        }
        return AuthChecker.Read(machine.Auth, who, key, rangeEnd);
    }

    /// <summary>Fails the call unless its requester may administer auth (a cheap early refusal; the store checks again).</summary>
    public async ValueTask ThrowUnlessAdminAsync(ServerCallContext call, CancellationToken cancellationToken)
    {
        var who = await IdentifyAsync(call, cancellationToken).ConfigureAwait(false);
        if (AuthChecker.Admin(machine.Auth, who) is { } refused)
        {
            throw EtcdProtoMapping.ToRpcException(refused);
        }
    }

    /// <summary>As <see cref="ThrowUnlessAdminAsync"/> for the Maintenance calls etcd reserves to root (Hash, HashKV,
    /// Defragment, Snapshot): etcd's authMaintenanceServer returns the auth store's own error there, untranslated, so
    /// clients see code Unknown and "auth: permission denied" or "auth: user name is empty". (Alarm, Status and
    /// MoveLeader check nothing in etcd 3.4.)</summary>
    public async ValueTask ThrowUnlessMaintenanceAdminAsync(ServerCallContext call, CancellationToken cancellationToken)
    {
        try
        {
            await ThrowUnlessAdminAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.Detail.StartsWith(EtcdServerPrefix, StringComparison.Ordinal))
        {
            throw new RpcException(CurpStore.Rpc.GrpcStatusCode.Unknown, "auth: " + e.Detail[EtcdServerPrefix.Length..]);
        }
    }

    private const string EtcdServerPrefix = "etcdserver: ";
}
