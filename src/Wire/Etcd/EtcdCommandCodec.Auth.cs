using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>
/// Auth in the command codec. A request made on behalf of a user is preceded by <see cref="RequestKind.Authorized"/>:
/// user name, auth revision, and whether it is the members' own identity. Auth requests travel as their etcd messages,
/// except Authenticate (name, simple token prefix, checked revision). Auth answers have forms of their own: the
/// header's revision, then what the answer holds.
/// </summary>
public sealed partial class EtcdCommandCodec
{
    private static RequestKind? AuthKindOf(Store.EtcdRequest request) => request switch
    {
        Store.AuthEnableRequest => RequestKind.AuthEnable,
        Store.AuthDisableRequest => RequestKind.AuthDisable,
        Store.AuthStatusRequest => RequestKind.AuthStatus,
        Store.AuthenticateRequest => RequestKind.Authenticate,
        Store.UserAddRequest => RequestKind.UserAdd,
        Store.UserGetRequest => RequestKind.UserGet,
        Store.UserListRequest => RequestKind.UserList,
        Store.UserDeleteRequest => RequestKind.UserDelete,
        Store.UserChangePasswordRequest => RequestKind.UserChangePassword,
        Store.UserGrantRoleRequest => RequestKind.UserGrantRole,
        Store.UserRevokeRoleRequest => RequestKind.UserRevokeRole,
        Store.RoleAddRequest => RequestKind.RoleAdd,
        Store.RoleGetRequest => RequestKind.RoleGet,
        Store.RoleListRequest => RequestKind.RoleList,
        Store.RoleDeleteRequest => RequestKind.RoleDelete,
        Store.RoleGrantPermissionRequest => RequestKind.RoleGrantPermission,
        Store.RoleRevokePermissionRequest => RequestKind.RoleRevokePermission,
        _ => null,
    };

    private static Store.EtcdRequest ReadAuthRequest(ref CodecReader reader, RequestKind kind)
    {
        if (kind == RequestKind.Authenticate)
        {
            return new Store.AuthenticateRequest { Name = reader.ReadString(), SimpleTokenPrefix = reader.ReadString(), CheckedRevision = reader.ReadInt64() };
        }
        IMessage message = kind switch
        {
            RequestKind.AuthEnable => reader.ReadMessage(Pb.AuthEnableRequest.Parser),
            RequestKind.AuthDisable => reader.ReadMessage(Pb.AuthDisableRequest.Parser),
            RequestKind.AuthStatus => reader.ReadMessage(Pb.AuthStatusRequest.Parser),
            RequestKind.UserAdd => reader.ReadMessage(Pb.AuthUserAddRequest.Parser),
            RequestKind.UserGet => reader.ReadMessage(Pb.AuthUserGetRequest.Parser),
            RequestKind.UserList => reader.ReadMessage(Pb.AuthUserListRequest.Parser),
            RequestKind.UserDelete => reader.ReadMessage(Pb.AuthUserDeleteRequest.Parser),
            RequestKind.UserChangePassword => reader.ReadMessage(Pb.AuthUserChangePasswordRequest.Parser),
            RequestKind.UserGrantRole => reader.ReadMessage(Pb.AuthUserGrantRoleRequest.Parser),
            RequestKind.UserRevokeRole => reader.ReadMessage(Pb.AuthUserRevokeRoleRequest.Parser),
            RequestKind.RoleAdd => reader.ReadMessage(Pb.AuthRoleAddRequest.Parser),
            RequestKind.RoleGet => reader.ReadMessage(Pb.AuthRoleGetRequest.Parser),
            RequestKind.RoleList => reader.ReadMessage(Pb.AuthRoleListRequest.Parser),
            RequestKind.RoleDelete => reader.ReadMessage(Pb.AuthRoleDeleteRequest.Parser),
            RequestKind.RoleGrantPermission => reader.ReadMessage(Pb.AuthRoleGrantPermissionRequest.Parser),
            _ => reader.ReadMessage(Pb.AuthRoleRevokePermissionRequest.Parser),
        };
        return EtcdProtoMapping.ToStoreRequest(message);
    }

    private static void WriteAuthenticate(CodedOutputStream output, Store.AuthenticateRequest request)
    {
        output.WriteString(request.Name);
        output.WriteString(request.SimpleTokenPrefix);
        output.WriteInt64(request.CheckedRevision);
    }

    private static void WriteRequestAuth(CodedOutputStream output, Store.RequestAuth auth)
    {
        output.WriteString(auth.User);
        output.WriteInt64(auth.AuthRevision);
        output.WriteBool(auth.IsMember);
    }

    private static Store.RequestAuth ReadRequestAuth(ref CodecReader reader)
    {
        var auth = new Store.RequestAuth(reader.ReadString(), reader.ReadInt64());
        if (!ReadBool(ref reader))
        {
            return auth;
        }
        return auth.User.Length == 0 && auth.AuthRevision == Store.RequestAuth.Member.AuthRevision
            ? Store.RequestAuth.Member
            : throw reader.Malformed($"\"{auth.User}\"@{auth.AuthRevision} is not the members' identity");
    }

    private static void WriteAuthResult(CodedOutputStream output, Store.EtcdResponse response)
    {
        var kind = response switch
        {
            Store.AuthStatusResponse => ResultKind.AuthStatus,
            Store.AuthenticateResponse => ResultKind.Authenticate,
            Store.AuthNamesResponse => ResultKind.AuthNames,
            Store.RoleGetResponse => ResultKind.RoleGet,
            _ => ResultKind.AuthChange,
        };
        output.WriteRawTag((byte)kind);
        output.WriteInt64(response.Header.Revision);
        switch (response)
        {
            case Store.AuthStatusResponse status:
                output.WriteBool(status.Enabled);
                output.WriteInt64(status.AuthRevision);
                break;
            case Store.AuthenticateResponse authenticate:
                output.WriteString(authenticate.User);
                output.WriteInt64(authenticate.AuthRevision);
                output.WriteString(authenticate.Token);
                break;
            case Store.AuthNamesResponse names:
                output.WriteUInt32((uint)names.Names.Count);
                foreach (var name in names.Names)
                {
                    output.WriteString(name);
                }
                break;
            case Store.RoleGetResponse role:
                output.WriteMessage(EtcdProtoMapping.ToProto(role, EtcdHeaderIds.None));
                break;
        }
    }

    private static Store.EtcdResponse ReadAuthResult(ref CodecReader reader, ResultKind kind)
    {
        var header = new Store.ResponseHeader(reader.ReadInt64());
        switch (kind)
        {
            case ResultKind.AuthStatus:
                return new Store.AuthStatusResponse { Header = header, Enabled = ReadBool(ref reader), AuthRevision = reader.ReadInt64() };
            case ResultKind.Authenticate:
                return new Store.AuthenticateResponse { Header = header, User = reader.ReadString(), AuthRevision = reader.ReadInt64(), Token = reader.ReadString() };
            case ResultKind.AuthNames:
                var names = new List<string>();
                for (var count = reader.ReadCount(minBytesEach: 1); count > 0; count--)
                {
                    names.Add(reader.ReadString());
                }
                return new Store.AuthNamesResponse { Header = header, Names = names };
            case ResultKind.RoleGet:
                var permissions = reader.ReadMessage(Pb.AuthRoleGetResponse.Parser).Perm.Select(EtcdProtoMapping.ToStore).ToList();
                return new Store.RoleGetResponse { Header = header, Permissions = permissions };
            default:
                return new Store.AuthChangeResponse { Header = header };
        }
    }

    private static bool ReadBool(ref CodecReader reader) => reader.ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw reader.Malformed($"bad boolean {other}"),
    };
}
