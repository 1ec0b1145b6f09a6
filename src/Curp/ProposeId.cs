namespace CurpStore.Curp;

/// <summary>
/// Identifies one client command across retries: the client's session id (issued by the cluster when the
/// session was registered) and the client's own sequence number. Exactly-once hangs on it.
/// </summary>
public readonly record struct ProposeId(ulong ClientId, ulong Sequence)
{
    public override string ToString() => $"{ClientId}:{Sequence}";
}
