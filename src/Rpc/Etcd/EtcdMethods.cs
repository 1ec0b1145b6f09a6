using Google.Protobuf;
using Google.Protobuf.Reflection;
using CurpStore.Rpc.Etcd.EtcdServerPb;
using CurpStore.Rpc.Etcd.V3ElectionPb;
using CurpStore.Rpc.Etcd.V3LockPb;

// The method descriptions of etcd's services (Grpc.Tools runs with GrpcServices="None", so protoc emits no stubs).
// Each one is built from protoc's own MethodDescriptor, which checks the message types and takes the call shape
// from the .proto; EtcdMethodsTests checks that every method of every service is listed here.

namespace CurpStore.Rpc.Etcd;

/// <summary>The methods of etcd's <c>etcdserverpb.KV</c> service.</summary>
public static class KVMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("KV");

    /// <summary><c>/etcdserverpb.KV/Range</c>.</summary>
    public static readonly Method<RangeRequest, RangeResponse> Range = Create<RangeRequest, RangeResponse>("Range");

    /// <summary><c>/etcdserverpb.KV/Put</c>.</summary>
    public static readonly Method<PutRequest, PutResponse> Put = Create<PutRequest, PutResponse>("Put");

    /// <summary><c>/etcdserverpb.KV/DeleteRange</c>.</summary>
    public static readonly Method<DeleteRangeRequest, DeleteRangeResponse> DeleteRange = Create<DeleteRangeRequest, DeleteRangeResponse>("DeleteRange");

    /// <summary><c>/etcdserverpb.KV/Txn</c>.</summary>
    public static readonly Method<TxnRequest, TxnResponse> Txn = Create<TxnRequest, TxnResponse>("Txn");

    /// <summary><c>/etcdserverpb.KV/Compact</c>.</summary>
    public static readonly Method<CompactionRequest, CompactionResponse> Compact = Create<CompactionRequest, CompactionResponse>("Compact");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>etcdserverpb.Watch</c> service.</summary>
public static class WatchMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Watch");

    /// <summary><c>/etcdserverpb.Watch/Watch</c>.</summary>
    public static readonly Method<WatchRequest, WatchResponse> Watch = Create<WatchRequest, WatchResponse>("Watch");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>etcdserverpb.Lease</c> service.</summary>
public static class LeaseMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Lease");

    /// <summary><c>/etcdserverpb.Lease/LeaseGrant</c>.</summary>
    public static readonly Method<LeaseGrantRequest, LeaseGrantResponse> LeaseGrant = Create<LeaseGrantRequest, LeaseGrantResponse>("LeaseGrant");

    /// <summary><c>/etcdserverpb.Lease/LeaseRevoke</c>.</summary>
    public static readonly Method<LeaseRevokeRequest, LeaseRevokeResponse> LeaseRevoke = Create<LeaseRevokeRequest, LeaseRevokeResponse>("LeaseRevoke");

    /// <summary><c>/etcdserverpb.Lease/LeaseKeepAlive</c>.</summary>
    public static readonly Method<LeaseKeepAliveRequest, LeaseKeepAliveResponse> LeaseKeepAlive = Create<LeaseKeepAliveRequest, LeaseKeepAliveResponse>("LeaseKeepAlive");

    /// <summary><c>/etcdserverpb.Lease/LeaseTimeToLive</c>.</summary>
    public static readonly Method<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse> LeaseTimeToLive = Create<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse>("LeaseTimeToLive");

    /// <summary><c>/etcdserverpb.Lease/LeaseLeases</c>.</summary>
    public static readonly Method<LeaseLeasesRequest, LeaseLeasesResponse> LeaseLeases = Create<LeaseLeasesRequest, LeaseLeasesResponse>("LeaseLeases");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>etcdserverpb.Cluster</c> service.</summary>
public static class ClusterMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Cluster");

    /// <summary><c>/etcdserverpb.Cluster/MemberAdd</c>.</summary>
    public static readonly Method<MemberAddRequest, MemberAddResponse> MemberAdd = Create<MemberAddRequest, MemberAddResponse>("MemberAdd");

    /// <summary><c>/etcdserverpb.Cluster/MemberRemove</c>.</summary>
    public static readonly Method<MemberRemoveRequest, MemberRemoveResponse> MemberRemove = Create<MemberRemoveRequest, MemberRemoveResponse>("MemberRemove");

    /// <summary><c>/etcdserverpb.Cluster/MemberUpdate</c>.</summary>
    public static readonly Method<MemberUpdateRequest, MemberUpdateResponse> MemberUpdate = Create<MemberUpdateRequest, MemberUpdateResponse>("MemberUpdate");

    /// <summary><c>/etcdserverpb.Cluster/MemberList</c>.</summary>
    public static readonly Method<MemberListRequest, MemberListResponse> MemberList = Create<MemberListRequest, MemberListResponse>("MemberList");

    /// <summary><c>/etcdserverpb.Cluster/MemberPromote</c>.</summary>
    public static readonly Method<MemberPromoteRequest, MemberPromoteResponse> MemberPromote = Create<MemberPromoteRequest, MemberPromoteResponse>("MemberPromote");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>etcdserverpb.Maintenance</c> service.</summary>
public static class MaintenanceMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Maintenance");

    /// <summary><c>/etcdserverpb.Maintenance/Alarm</c>.</summary>
    public static readonly Method<AlarmRequest, AlarmResponse> Alarm = Create<AlarmRequest, AlarmResponse>("Alarm");

    /// <summary><c>/etcdserverpb.Maintenance/Status</c>.</summary>
    public static readonly Method<StatusRequest, StatusResponse> Status = Create<StatusRequest, StatusResponse>("Status");

    /// <summary><c>/etcdserverpb.Maintenance/Defragment</c>.</summary>
    public static readonly Method<DefragmentRequest, DefragmentResponse> Defragment = Create<DefragmentRequest, DefragmentResponse>("Defragment");

    /// <summary><c>/etcdserverpb.Maintenance/Hash</c>.</summary>
    public static readonly Method<HashRequest, HashResponse> Hash = Create<HashRequest, HashResponse>("Hash");

    /// <summary><c>/etcdserverpb.Maintenance/HashKV</c>.</summary>
    public static readonly Method<HashKVRequest, HashKVResponse> HashKV = Create<HashKVRequest, HashKVResponse>("HashKV");

    /// <summary><c>/etcdserverpb.Maintenance/Snapshot</c>.</summary>
    public static readonly Method<SnapshotRequest, SnapshotResponse> Snapshot = Create<SnapshotRequest, SnapshotResponse>("Snapshot");

    /// <summary><c>/etcdserverpb.Maintenance/MoveLeader</c>.</summary>
    public static readonly Method<MoveLeaderRequest, MoveLeaderResponse> MoveLeader = Create<MoveLeaderRequest, MoveLeaderResponse>("MoveLeader");

    /// <summary><c>/etcdserverpb.Maintenance/Downgrade</c>.</summary>
    public static readonly Method<DowngradeRequest, DowngradeResponse> Downgrade = Create<DowngradeRequest, DowngradeResponse>("Downgrade");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>etcdserverpb.Auth</c> service.</summary>
public static class AuthMethods
{
    private static readonly ServiceDescriptor Service = RpcReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Auth");

    /// <summary><c>/etcdserverpb.Auth/AuthEnable</c>.</summary>
    public static readonly Method<AuthEnableRequest, AuthEnableResponse> AuthEnable = Create<AuthEnableRequest, AuthEnableResponse>("AuthEnable");

    /// <summary><c>/etcdserverpb.Auth/AuthDisable</c>.</summary>
    public static readonly Method<AuthDisableRequest, AuthDisableResponse> AuthDisable = Create<AuthDisableRequest, AuthDisableResponse>("AuthDisable");

    /// <summary><c>/etcdserverpb.Auth/AuthStatus</c>.</summary>
    public static readonly Method<AuthStatusRequest, AuthStatusResponse> AuthStatus = Create<AuthStatusRequest, AuthStatusResponse>("AuthStatus");

    /// <summary><c>/etcdserverpb.Auth/Authenticate</c>.</summary>
    public static readonly Method<AuthenticateRequest, AuthenticateResponse> Authenticate = Create<AuthenticateRequest, AuthenticateResponse>("Authenticate");

    /// <summary><c>/etcdserverpb.Auth/UserAdd</c>.</summary>
    public static readonly Method<AuthUserAddRequest, AuthUserAddResponse> UserAdd = Create<AuthUserAddRequest, AuthUserAddResponse>("UserAdd");

    /// <summary><c>/etcdserverpb.Auth/UserGet</c>.</summary>
    public static readonly Method<AuthUserGetRequest, AuthUserGetResponse> UserGet = Create<AuthUserGetRequest, AuthUserGetResponse>("UserGet");

    /// <summary><c>/etcdserverpb.Auth/UserList</c>.</summary>
    public static readonly Method<AuthUserListRequest, AuthUserListResponse> UserList = Create<AuthUserListRequest, AuthUserListResponse>("UserList");

    /// <summary><c>/etcdserverpb.Auth/UserDelete</c>.</summary>
    public static readonly Method<AuthUserDeleteRequest, AuthUserDeleteResponse> UserDelete = Create<AuthUserDeleteRequest, AuthUserDeleteResponse>("UserDelete");

    /// <summary><c>/etcdserverpb.Auth/UserChangePassword</c>.</summary>
    public static readonly Method<AuthUserChangePasswordRequest, AuthUserChangePasswordResponse> UserChangePassword = Create<AuthUserChangePasswordRequest, AuthUserChangePasswordResponse>("UserChangePassword");

    /// <summary><c>/etcdserverpb.Auth/UserGrantRole</c>.</summary>
    public static readonly Method<AuthUserGrantRoleRequest, AuthUserGrantRoleResponse> UserGrantRole = Create<AuthUserGrantRoleRequest, AuthUserGrantRoleResponse>("UserGrantRole");

    /// <summary><c>/etcdserverpb.Auth/UserRevokeRole</c>.</summary>
    public static readonly Method<AuthUserRevokeRoleRequest, AuthUserRevokeRoleResponse> UserRevokeRole = Create<AuthUserRevokeRoleRequest, AuthUserRevokeRoleResponse>("UserRevokeRole");

    /// <summary><c>/etcdserverpb.Auth/RoleAdd</c>.</summary>
    public static readonly Method<AuthRoleAddRequest, AuthRoleAddResponse> RoleAdd = Create<AuthRoleAddRequest, AuthRoleAddResponse>("RoleAdd");

    /// <summary><c>/etcdserverpb.Auth/RoleGet</c>.</summary>
    public static readonly Method<AuthRoleGetRequest, AuthRoleGetResponse> RoleGet = Create<AuthRoleGetRequest, AuthRoleGetResponse>("RoleGet");

    /// <summary><c>/etcdserverpb.Auth/RoleList</c>.</summary>
    public static readonly Method<AuthRoleListRequest, AuthRoleListResponse> RoleList = Create<AuthRoleListRequest, AuthRoleListResponse>("RoleList");

    /// <summary><c>/etcdserverpb.Auth/RoleDelete</c>.</summary>
    public static readonly Method<AuthRoleDeleteRequest, AuthRoleDeleteResponse> RoleDelete = Create<AuthRoleDeleteRequest, AuthRoleDeleteResponse>("RoleDelete");

    /// <summary><c>/etcdserverpb.Auth/RoleGrantPermission</c>.</summary>
    public static readonly Method<AuthRoleGrantPermissionRequest, AuthRoleGrantPermissionResponse> RoleGrantPermission = Create<AuthRoleGrantPermissionRequest, AuthRoleGrantPermissionResponse>("RoleGrantPermission");

    /// <summary><c>/etcdserverpb.Auth/RoleRevokePermission</c>.</summary>
    public static readonly Method<AuthRoleRevokePermissionRequest, AuthRoleRevokePermissionResponse> RoleRevokePermission = Create<AuthRoleRevokePermissionRequest, AuthRoleRevokePermissionResponse>("RoleRevokePermission");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>v3lockpb.Lock</c> service.</summary>
public static class LockMethods
{
    private static readonly ServiceDescriptor Service = V3LockReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Lock");

    /// <summary><c>/v3lockpb.Lock/Lock</c>.</summary>
    public static readonly Method<LockRequest, LockResponse> Lock = Create<LockRequest, LockResponse>("Lock");

    /// <summary><c>/v3lockpb.Lock/Unlock</c>.</summary>
    public static readonly Method<UnlockRequest, UnlockResponse> Unlock = Create<UnlockRequest, UnlockResponse>("Unlock");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}

/// <summary>The methods of etcd's <c>v3electionpb.Election</c> service.</summary>
public static class ElectionMethods
{
    private static readonly ServiceDescriptor Service = V3ElectionReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Election");

    /// <summary><c>/v3electionpb.Election/Campaign</c>.</summary>
    public static readonly Method<CampaignRequest, CampaignResponse> Campaign = Create<CampaignRequest, CampaignResponse>("Campaign");

    /// <summary><c>/v3electionpb.Election/Proclaim</c>.</summary>
    public static readonly Method<ProclaimRequest, ProclaimResponse> Proclaim = Create<ProclaimRequest, ProclaimResponse>("Proclaim");

    /// <summary><c>/v3electionpb.Election/Leader</c>.</summary>
    public static readonly Method<LeaderRequest, LeaderResponse> Leader = Create<LeaderRequest, LeaderResponse>("Leader");

    /// <summary><c>/v3electionpb.Election/Observe</c>.</summary>
    public static readonly Method<LeaderRequest, LeaderResponse> Observe = Create<LeaderRequest, LeaderResponse>("Observe");

    /// <summary><c>/v3electionpb.Election/Resign</c>.</summary>
    public static readonly Method<ResignRequest, ResignResponse> Resign = Create<ResignRequest, ResignResponse>("Resign");

    private static Method<TRequest, TResponse> Create<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        Method<TRequest, TResponse>.FromDescriptor(Service.FindMethodByName(name) ?? throw new InvalidOperationException($"{Service.FullName} has no method {name}"));
}
