using CurpStore.Curp;

namespace CurpStore.Server.Hosting;

/// <summary>Carries core messages to other members and to remote proposers. Sending never blocks the host loop:
/// a transport queues per destination (bounded) and drops what it cannot deliver, which Raft and CURP tolerate
/// (they retry); what it drops it counts.</summary>
public interface IPeerTransport
{
    void Send(Message message);
}
