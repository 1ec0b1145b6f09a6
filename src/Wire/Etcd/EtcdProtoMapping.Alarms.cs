using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>Maintenance.Alarm: the request is replicated (etcd applies alarms through raft), the answer lists alarms.</summary>
public static partial class EtcdProtoMapping
{
    public static Store.AlarmRequest ToStore(Pb.AlarmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Store.AlarmRequest { Action = (Store.AlarmAction)(int)request.Action, MemberId = request.MemberID, Alarm = (Store.AlarmType)(int)request.Alarm };
    }

    public static Pb.AlarmRequest ToProto(Store.AlarmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pb.AlarmRequest
        {
            Action = (Pb.AlarmRequest.Types.AlarmAction)(int)request.Action,
            MemberID = request.MemberId,
            Alarm = (Pb.AlarmType)(int)request.Alarm,
        };
    }

    public static Store.AlarmResponse ToStore(Pb.AlarmResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new Store.AlarmResponse
        {
            Header = ToStore(response.Header),
            Alarms = [.. response.Alarms.Select(a => new Store.AlarmMember(a.MemberID, (Store.AlarmType)(int)a.Alarm))],
        };
    }

    public static Pb.AlarmResponse ToProto(Store.AlarmResponse response, EtcdHeaderIds ids)
    {
        ArgumentNullException.ThrowIfNull(response);
        var proto = new Pb.AlarmResponse { Header = ToProto(response.Header, ids) };
        proto.Alarms.AddRange(response.Alarms.Select(a => new Pb.AlarmMember { MemberID = a.MemberId, Alarm = (Pb.AlarmType)(int)a.Alarm }));
        return proto;
    }
}
