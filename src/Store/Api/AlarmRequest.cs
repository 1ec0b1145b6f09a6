namespace CurpStore.Store;

/// <summary>etcd's AlarmRequest action (numbers as in etcdserverpb).</summary>
public enum AlarmAction
{
    Get = 0,
    Activate = 1,
    Deactivate = 2,
}

/// <summary>etcd's AlarmType (numbers as in etcdserverpb). <see cref="None"/> in a GET means every alarm.</summary>
public enum AlarmType
{
    None = 0,
    NoSpace = 1,
    Corrupt = 2,
}

/// <summary>etcd's AlarmMember: which member raised which alarm.</summary>
public sealed record AlarmMember(ulong MemberId, AlarmType Alarm);

/// <summary>etcd's AlarmRequest, applied through the log so that every member records the same alarms (etcd's
/// <c>applierV3backend.Alarm</c>).</summary>
public sealed record AlarmRequest : EtcdRequest
{
    public AlarmAction Action { get; init; }

    public ulong MemberId { get; init; }

    public AlarmType Alarm { get; init; }
}

/// <summary>etcd's AlarmResponse: for GET the alarms of the asked type, for ACTIVATE/DEACTIVATE the alarm changed (or
/// already active), empty when nothing matched.</summary>
public sealed record AlarmResponse : EtcdResponse
{
    public IReadOnlyList<AlarmMember> Alarms { get; init; } = [];
}
