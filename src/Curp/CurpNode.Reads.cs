namespace CurpStore.Curp;

/// <summary>Linearizable reads through ReadIndex (Raft thesis §6.4), made CURP-safe: a read also waits for every
/// uncommitted write it conflicts with, because such a write may already have been answered on the fast path.</summary>
public sealed partial class CurpNode
{
    private readonly List<PendingRead> pendingReads = [];
    private ulong readContext;

    private sealed record PendingRead(ReadRequest Request, ulong ReadIndex, ulong Context);

    private void HandleRead(ReadRequest request)
    {
        if (!IsLeader)
        {
            Send(new ReadResponse(Id, request.From, request.Command.Id, LeaderId, null, ProposeError.NotLeader));
            return;
        }
        if (pendingReads.Count >= config.MaxPendingReads)
        {
            Send(new ReadResponse(Id, request.From, request.Command.Id, Id, null, ProposeError.TooManyRequests));
            return;
        }
        var readIndex = CommitIndex;
        if (request.WaitForAllWrites)
        {
            readIndex = log.LastIndex;
        }
        else
        {
            foreach (var entry in log.EntriesFrom(CommitIndex + 1))
            {
                if (entry.Payload is CommandPayload payload && CommandConflicts.Conflict(payload.Command, request.Command))
                {
                    readIndex = entry.Index;
                }
            }
        }
        // Every read waits for a fresh round of heartbeats proving this member still leads (one round serves all the
        // reads that arrived before it was sent).
        readContext++;
        pendingReads.Add(new PendingRead(request, readIndex, readContext));
        if (Members.Voters.Count > 1)
        {
            SendAppendsToAll(heartbeatOnly: true);
        }
        ServeConfirmedReads();
    }

    private void ServeConfirmedReads()
    {
        if (pendingReads.Count == 0 || !IsLeader)
        {
            return;
        }
        // A leader serves reads only once it has committed an entry of its own term: before that it may not know the
        // latest commit index.
        if (log.TermAt(CommitIndex) != Term)
        {
            return;
        }
        var confirmed = ConfirmedReadContext();
        var served = 0;
        foreach (var read in pendingReads)
        {
            if (read.Context > confirmed || read.ReadIndex > AppliedIndex)
            {
                break;
            }
            var result = stateMachine.Read(read.Request.Command);
            Counters.ReadsServed++;
            Send(new ReadResponse(Id, read.Request.From, read.Request.Command.Id, Id, result, ProposeError.None));
            served++;
        }
        pendingReads.RemoveRange(0, served);
    }

    /// <summary>The highest read context acknowledged by a quorum (this member counts itself).</summary>
    private ulong ConfirmedReadContext()
    {
        var acks = Members.Voters
            .Select(v => v == Id ? readContext : progress.TryGetValue(v, out var p) ? p.ReadContextAcked : 0)
            .OrderDescending()
            .ToList();
        return acks[Members.Quorum.Majority - 1];
    }

    private void FailPendingReads()
    {
        foreach (var read in pendingReads)
        {
            Send(new ReadResponse(Id, read.Request.From, read.Request.Command.Id, 0, null, ProposeError.NotLeader));
        }
        pendingReads.Clear();
    }
}
