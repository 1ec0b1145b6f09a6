using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Auth;
using CurpStore.Wire.Etcd;
using CurpStore.Store;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>
/// etcd's Auth service. Every RPC is a store request proposed through CURP (as etcd 3.5 puts them all through raft),
/// checked and answered by the store. Passwords are hashed here, before proposing, so the log and the state machine
/// never see them; Authenticate checks the password here against this member's applied auth store after a
/// linearizable barrier (etcd's order), then proposes the authentication and turns the store's record into a token.
/// </summary>
public sealed class AuthService(EtcdFacadeContext facade)
{
    /// <summary>etcd retries an authentication whose password check went stale (the auth store changed between the
    /// check and the proposal); here a bounded number of times.</summary>
    public const int MaxAuthenticateAttempts = 5;

    public void Register(GrpcServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Change(server, AuthMethods.AuthEnable, h => new Pb.AuthEnableResponse { Header = h });
        Change(server, AuthMethods.AuthDisable, h => new Pb.AuthDisableResponse { Header = h });
        server.AddUnaryMethod(AuthMethods.AuthStatus, async (Pb.AuthStatusRequest r, ServerCallContext c) =>
            EtcdProtoMapping.ToProto((AuthStatusResponse)await facade.ProposeAsync(EtcdProtoMapping.ToStoreRequest(r), c).ConfigureAwait(false), facade.HeaderIds));
        server.AddUnaryMethod(AuthMethods.Authenticate, AuthenticateAsync);
        server.AddUnaryMethod(AuthMethods.UserAdd, UserAddAsync);
        Names(server, AuthMethods.UserGet, (h, names) => new Pb.AuthUserGetResponse { Header = h, Roles = { names } });
        Names(server, AuthMethods.UserList, (h, names) => new Pb.AuthUserListResponse { Header = h, Users = { names } });
        Change(server, AuthMethods.UserDelete, h => new Pb.AuthUserDeleteResponse { Header = h });
        server.AddUnaryMethod(AuthMethods.UserChangePassword, UserChangePasswordAsync);
        Change(server, AuthMethods.UserGrantRole, h => new Pb.AuthUserGrantRoleResponse { Header = h });
        Change(server, AuthMethods.UserRevokeRole, h => new Pb.AuthUserRevokeRoleResponse { Header = h });
        Change(server, AuthMethods.RoleAdd, h => new Pb.AuthRoleAddResponse { Header = h });
        server.AddUnaryMethod(AuthMethods.RoleGet, async (Pb.AuthRoleGetRequest r, ServerCallContext c) =>
            EtcdProtoMapping.ToProto((RoleGetResponse)await facade.ProposeAsync(EtcdProtoMapping.ToStoreRequest(r), c).ConfigureAwait(false), facade.HeaderIds));
        Names(server, AuthMethods.RoleList, (h, names) => new Pb.AuthRoleListResponse { Header = h, Roles = { names } });
        Change(server, AuthMethods.RoleDelete, h => new Pb.AuthRoleDeleteResponse { Header = h });
        Change(server, AuthMethods.RoleGrantPermission, h => new Pb.AuthRoleGrantPermissionResponse { Header = h });
        Change(server, AuthMethods.RoleRevokePermission, h => new Pb.AuthRoleRevokePermissionResponse { Header = h });
    }

    /// <summary>etcd 3.5: the password is hashed unless the user has none (even an empty one is hashed).</summary>
    private async Task<Pb.AuthUserAddResponse> UserAddAsync(Pb.AuthUserAddRequest request, ServerCallContext context)
    {
        var add = EtcdProtoMapping.ToStore(request);
        if (!add.NoPassword)
        {
            // Hashing is slow on purpose: refuse a requester that may not add users before spending it.
            await facade.Auth.ThrowUnlessAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
            add = add with { PasswordHash = PasswordHasher.Hash(request.Password) };
        }
        return await ChangeAsync(add, context, h => new Pb.AuthUserAddResponse { Header = h }).ConfigureAwait(false);
    }

    private async Task<Pb.AuthUserChangePasswordResponse> UserChangePasswordAsync(Pb.AuthUserChangePasswordRequest request, ServerCallContext context)
    {
        await facade.Auth.ThrowUnlessAdminAsync(context, context.CancellationToken).ConfigureAwait(false);
        var change = new UserChangePasswordRequest { Name = request.Name, PasswordHash = PasswordHasher.Hash(request.Password) };
        return await ChangeAsync(change, context, h => new Pb.AuthUserChangePasswordResponse { Header = h }).ConfigureAwait(false);
    }

    private async Task<Pb.AuthenticateResponse> AuthenticateAsync(Pb.AuthenticateRequest request, ServerCallContext context)
    {
        var tokens = facade.Auth.Tokens;
        for (var attempt = 1; ; attempt++)
        {
            // etcd: a linearizable read first, so a user or password just changed elsewhere is seen here.
            await facade.BarrierAsync(CommandKeyRanges.AuthMarker, context.CancellationToken).ConfigureAwait(false);
            var auth = facade.Auth.State;
            var user = auth.FindUser(request.Name);
            EtcdFacadeContext.ThrowIfInvalid(
                !auth.Enabled ? EtcdError.AuthNotEnabled
                : user is null ? EtcdError.AuthFailed
                : user.NoPassword ? EtcdError.NoPasswordUser
                : !PasswordHasher.Verify(request.Password, user.PasswordHash) ? EtcdError.AuthFailed
                : null);
            tokens.EnsureRoom();
            var authenticate = new AuthenticateRequest { Name = request.Name, SimpleTokenPrefix = tokens.NewTokenPrefix(), CheckedRevision = auth.Revision };
            try
            {
                // Proposed without the caller's token: a stale one must not stop it from getting a new one.
                var accepted = (AuthenticateResponse)await facade.ProposeAsync(authenticate, context, asRequester: false).ConfigureAwait(false);
                return new Pb.AuthenticateResponse { Header = EtcdProtoMapping.ToProto(accepted.Header, facade.HeaderIds), Token = tokens.Assign(accepted) };
            }
            catch (RpcException e) when (e.Detail == EtcdError.AuthOldRevision.Message && attempt < MaxAuthenticateAttempts)
            {
                // The auth store changed after the password was checked: check again.
            }
        }
    }

    /// <summary>An RPC whose request maps straight to a store request and whose answer is a header.</summary>
    private void Change<TRequest, TResponse>(GrpcServer server, Method<TRequest, TResponse> method, Func<Pb.ResponseHeader, TResponse> answer)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        server.AddUnaryMethod(method, (request, context) => ChangeAsync(EtcdProtoMapping.ToStoreRequest(request), context, answer));

    /// <summary>An RPC whose request maps straight to a store request and whose answer is a list of names.</summary>
    private void Names<TRequest, TResponse>(GrpcServer server, Method<TRequest, TResponse> method, Func<Pb.ResponseHeader, IReadOnlyList<string>, TResponse> answer)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        server.AddUnaryMethod(method, async (request, context) =>
        {
            var response = (AuthNamesResponse)await facade.ProposeAsync(EtcdProtoMapping.ToStoreRequest(request), context).ConfigureAwait(false);
            return answer(EtcdProtoMapping.ToProto(response.Header, facade.HeaderIds), response.Names);
        });

    private async Task<T> ChangeAsync<T>(EtcdRequest request, ServerCallContext context, Func<Pb.ResponseHeader, T> answer)
    {
        var response = await facade.ProposeAsync(request, context).ConfigureAwait(false);
        return answer(EtcdProtoMapping.ToProto(response.Header, facade.HeaderIds));
    }
}
