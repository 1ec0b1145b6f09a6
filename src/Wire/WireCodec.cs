using System.Collections.Immutable;
using CurpStore.Curp;
using Google.Protobuf;
using W = CurpStore.Rpc.CurpWire;

namespace CurpStore.Wire;

/// <summary>
/// Converts the core's messages and records to the <c>curp.proto</c> wire types and back. Snapshots are split into
/// chunks of at most <see cref="SnapshotChunkBytes"/> (a member far behind receives the store in bounded pieces) and
/// reassembled by <see cref="SnapshotAssembler"/>.
/// </summary>
public sealed class WireCodec(ICommandCodec commands, int snapshotChunkBytes = 1 << 20)
{
    public int SnapshotChunkBytes { get; } = snapshotChunkBytes;

    public ICommandCodec Commands { get; } = commands;

    /// <summary>One message becomes one envelope, except InstallSnapshot, which becomes one envelope per chunk.</summary>
    public IEnumerable<W.Envelope> Encode(Message message)
    {
        if (message is InstallSnapshotRequest snapshot)
        {
            foreach (var chunk in EncodeSnapshotChunks(snapshot))
            {
                yield return chunk;
            }
            yield break;
        }
        var envelope = new W.Envelope { From = message.From, To = message.To };
        switch (message)
        {
            case PreVoteRequest m:
                envelope.PreVoteRequest = new W.PreVoteRequest { Term = m.Term, LastIndex = m.LastIndex, LastTerm = m.LastTerm };
                break;
            case PreVoteResponse m:
                envelope.PreVoteResponse = new W.PreVoteResponse { Term = m.Term, Granted = m.Granted };
                break;
            case VoteRequest m:
                envelope.VoteRequest = new W.VoteRequest { Term = m.Term, LastIndex = m.LastIndex, LastTerm = m.LastTerm, LeadershipTransfer = m.LeadershipTransfer };
                break;
            case VoteResponse m:
                envelope.VoteResponse = new W.VoteResponse { Term = m.Term, Granted = m.Granted };
                envelope.VoteResponse.Pool.AddRange(m.Pool.Select(Encode));
                break;
            case AppendRequest m:
                envelope.AppendRequest = new W.AppendRequest { Term = m.Term, PrevIndex = m.PrevIndex, PrevTerm = m.PrevTerm, Commit = m.Commit, ReadContext = m.ReadContext };
                envelope.AppendRequest.Entries.AddRange(m.Entries.Select(Encode));
                break;
            case AppendResponse m:
                envelope.AppendResponse = new W.AppendResponse
                {
                    Term = m.Term,
                    Success = m.Success,
                    MatchIndex = m.MatchIndex,
                    RejectHintIndex = m.RejectHintIndex,
                    RejectHintTerm = m.RejectHintTerm,
                    ReadContext = m.ReadContext,
                };
                break;
            case InstallSnapshotResponse m:
                envelope.InstallSnapshotResponse = new W.InstallSnapshotResponse { Term = m.Term, MatchIndex = m.MatchIndex };
                break;
            case StalePoolReport m:
                envelope.StalePoolReport = new W.StalePoolReport { Term = m.Term };
                envelope.StalePoolReport.Commands.AddRange(m.Commands.Select(Encode));
                break;
            case TimeoutNow m:
                envelope.TimeoutNow = new W.TimeoutNow { Term = m.Term };
                break;
            case ProposeRequest m:
                envelope.ProposeRequest = new W.ProposeRequest { Command = Bytes(Commands.EncodeCommand(m.Command)), FirstIncompleteSequence = m.FirstIncompleteSequence };
                break;
            case ProposeResponse m:
                envelope.ProposeResponse = new W.ProposeResponse
                {
                    Id = Encode(m.Id),
                    Term = m.Term,
                    LeaderHint = m.LeaderHint,
                    Outcome = (W.ProposeOutcome)m.Outcome,
                    Index = m.Index,
                    Error = (W.ProposeError)m.Error,
                };
                if (m.Result is not null)
                {
                    envelope.ProposeResponse.Result = Bytes(Commands.EncodeResult(m.Result));
                }
                break;
            case SyncedResponse m:
                envelope.SyncedResponse = new W.SyncedResponse { Id = Encode(m.Id), Term = m.Term, Error = (W.ProposeError)m.Error };
                if (m.Result is not null)
                {
                    envelope.SyncedResponse.Result = Bytes(Commands.EncodeResult(m.Result));
                }
                break;
            case CommitNotice m:
                envelope.CommitNotice = new W.CommitNotice { Id = Encode(m.Id), Index = m.Index, Term = m.Term };
                break;
            case RegisterSessionRequest m:
                envelope.RegisterSessionRequest = new W.RegisterSessionRequest { Nonce = m.Nonce };
                break;
            case RegisterSessionResponse m:
                envelope.RegisterSessionResponse = new W.RegisterSessionResponse { Nonce = m.Nonce, ClientId = m.ClientId, LeaderHint = m.LeaderHint, Error = (W.ProposeError)m.Error };
                break;
            case ReadRequest m:
                envelope.ReadRequest = new W.ReadRequest { Command = Bytes(Commands.EncodeCommand(m.Command)), WaitForAllWrites = m.WaitForAllWrites };
                break;
            case ReadResponse m:
                envelope.ReadResponse = new W.ReadResponse { Id = Encode(m.Id), LeaderHint = m.LeaderHint, Error = (W.ProposeError)m.Error };
                if (m.Result is not null)
                {
                    envelope.ReadResponse.Result = Bytes(Commands.EncodeResult(m.Result));
                }
                break;
            default:
                throw new ArgumentException($"no wire form for {message.GetType().Name}", nameof(message));
        }
        yield return envelope;
    }

    /// <summary>Decodes an envelope; InstallSnapshot chunks go through <paramref name="snapshots"/> and yield a message
    /// only with the last chunk. Throws <see cref="FormatException"/> for an envelope that carries nothing valid.</summary>
    public Message? Decode(W.Envelope envelope, SnapshotAssembler snapshots)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ulong from = envelope.From, to = envelope.To;
        return envelope.BodyCase switch
        {
            W.Envelope.BodyOneofCase.PreVoteRequest => new PreVoteRequest(from, to, envelope.PreVoteRequest.Term, envelope.PreVoteRequest.LastIndex, envelope.PreVoteRequest.LastTerm),
            W.Envelope.BodyOneofCase.PreVoteResponse => new PreVoteResponse(from, to, envelope.PreVoteResponse.Term, envelope.PreVoteResponse.Granted),
            W.Envelope.BodyOneofCase.VoteRequest => new VoteRequest(
                from, to, envelope.VoteRequest.Term, envelope.VoteRequest.LastIndex, envelope.VoteRequest.LastTerm, envelope.VoteRequest.LeadershipTransfer),
            W.Envelope.BodyOneofCase.VoteResponse => new VoteResponse(
                from, to, envelope.VoteResponse.Term, envelope.VoteResponse.Granted, [.. envelope.VoteResponse.Pool.Select(Decode)]),
            W.Envelope.BodyOneofCase.AppendRequest => new AppendRequest(
                from, to, envelope.AppendRequest.Term, envelope.AppendRequest.PrevIndex, envelope.AppendRequest.PrevTerm,
                [.. envelope.AppendRequest.Entries.Select(Decode)], envelope.AppendRequest.Commit, envelope.AppendRequest.ReadContext),
            W.Envelope.BodyOneofCase.AppendResponse => new AppendResponse(
                from, to, envelope.AppendResponse.Term, envelope.AppendResponse.Success, envelope.AppendResponse.MatchIndex,
                envelope.AppendResponse.RejectHintIndex, envelope.AppendResponse.RejectHintTerm, envelope.AppendResponse.ReadContext),
            W.Envelope.BodyOneofCase.InstallSnapshot => snapshots.Add(from, to, envelope.InstallSnapshot, this),
            W.Envelope.BodyOneofCase.InstallSnapshotResponse => new InstallSnapshotResponse(
                from, to, envelope.InstallSnapshotResponse.Term, envelope.InstallSnapshotResponse.MatchIndex),
            W.Envelope.BodyOneofCase.StalePoolReport => new StalePoolReport(
                from, to, envelope.StalePoolReport.Term, [.. envelope.StalePoolReport.Commands.Select(Decode)]),
            W.Envelope.BodyOneofCase.TimeoutNow => new TimeoutNow(from, to, envelope.TimeoutNow.Term),
            W.Envelope.BodyOneofCase.ProposeRequest => new ProposeRequest(
                from, to, Commands.DecodeCommand(envelope.ProposeRequest.Command.Span), envelope.ProposeRequest.FirstIncompleteSequence),
            W.Envelope.BodyOneofCase.ProposeResponse => new ProposeResponse(
                from, to, Decode(envelope.ProposeResponse.Id), envelope.ProposeResponse.Term, envelope.ProposeResponse.LeaderHint,
                DefinedOrThrow((ProposeOutcome)envelope.ProposeResponse.Outcome), envelope.ProposeResponse.Index,
                envelope.ProposeResponse.HasResult ? Commands.DecodeResult(envelope.ProposeResponse.Result.Span) : null,
                DefinedOrThrow((ProposeError)envelope.ProposeResponse.Error)),
            W.Envelope.BodyOneofCase.SyncedResponse => new SyncedResponse(
                from, to, Decode(envelope.SyncedResponse.Id), envelope.SyncedResponse.Term,
                envelope.SyncedResponse.HasResult ? Commands.DecodeResult(envelope.SyncedResponse.Result.Span) : null,
                DefinedOrThrow((ProposeError)envelope.SyncedResponse.Error)),
            W.Envelope.BodyOneofCase.CommitNotice => new CommitNotice(
                from, to, Decode(envelope.CommitNotice.Id), envelope.CommitNotice.Index, envelope.CommitNotice.Term),
            W.Envelope.BodyOneofCase.RegisterSessionRequest => new RegisterSessionRequest(from, to, envelope.RegisterSessionRequest.Nonce),
            W.Envelope.BodyOneofCase.RegisterSessionResponse => new RegisterSessionResponse(
                from, to, envelope.RegisterSessionResponse.Nonce, envelope.RegisterSessionResponse.ClientId, envelope.RegisterSessionResponse.LeaderHint,
                DefinedOrThrow((ProposeError)envelope.RegisterSessionResponse.Error)),
            W.Envelope.BodyOneofCase.ReadRequest => new ReadRequest(
                from, to, Commands.DecodeCommand(envelope.ReadRequest.Command.Span), envelope.ReadRequest.WaitForAllWrites),
            W.Envelope.BodyOneofCase.ReadResponse => new ReadResponse(
                from, to, Decode(envelope.ReadResponse.Id), envelope.ReadResponse.LeaderHint,
                envelope.ReadResponse.HasResult ? Commands.DecodeResult(envelope.ReadResponse.Result.Span) : null,
                DefinedOrThrow((ProposeError)envelope.ReadResponse.Error)),
            _ => throw new FormatException("an envelope without a message"),
        };
    }

    public W.LogEntry Encode(LogEntry entry)
    {
        var wire = new W.LogEntry { Index = entry.Index, Term = entry.Term };
        switch (entry.Payload)
        {
            case NoopPayload:
                wire.Noop = new W.Noop();
                break;
            case CommandPayload command:
                wire.Command = Encode(new PooledCommand(command.Command, command.ProposerNode, command.FirstIncompleteSequence));
                break;
            case RegisterSessionPayload register:
                wire.RegisterSession = new W.RegisterSession { ProposerNode = register.ProposerNode, Nonce = register.Nonce };
                break;
            case ExpireSessionsPayload expire:
                wire.ExpireSessions = new W.ExpireSessions();
                wire.ExpireSessions.ClientIds.AddRange(expire.ClientIds);
                break;
            case MembershipPayload membership:
                wire.Membership = Encode(membership.Members);
                break;
            default:
                throw new ArgumentException($"no wire form for {entry.Payload.GetType().Name}", nameof(entry));
        }
        return wire;
    }

    public LogEntry Decode(W.LogEntry entry)
    {
        EntryPayload payload = entry.PayloadCase switch
        {
            W.LogEntry.PayloadOneofCase.Noop => NoopPayload.Instance,
            W.LogEntry.PayloadOneofCase.Command => ToCommandPayload(Decode(entry.Command)),
            W.LogEntry.PayloadOneofCase.RegisterSession => new RegisterSessionPayload(entry.RegisterSession.ProposerNode, entry.RegisterSession.Nonce),
            W.LogEntry.PayloadOneofCase.ExpireSessions => new ExpireSessionsPayload([.. entry.ExpireSessions.ClientIds]),
            W.LogEntry.PayloadOneofCase.Membership => new MembershipPayload(Decode(entry.Membership)),
            _ => throw new FormatException($"log entry {entry.Index} carries no payload"),
        };
        return new LogEntry(entry.Index, entry.Term, payload);
    }

    public W.PooledCommand Encode(PooledCommand pooled) => new()
    {
        Command = Bytes(Commands.EncodeCommand(pooled.Command)),
        ProposerNode = pooled.ProposerNode,
        FirstIncompleteSequence = pooled.FirstIncompleteSequence,
    };

    public PooledCommand Decode(W.PooledCommand pooled) =>
        new(Commands.DecodeCommand(pooled.Command.Span), pooled.ProposerNode, pooled.FirstIncompleteSequence);

    public static W.ProposeId Encode(ProposeId id) => new() { ClientId = id.ClientId, Sequence = id.Sequence };

    public static ProposeId Decode(W.ProposeId? id) =>
        id is null ? throw new FormatException("a propose id is missing") : new ProposeId(id.ClientId, id.Sequence);

    public static W.Membership Encode(Membership members)
    {
        var wire = new W.Membership();
        wire.Voters.AddRange(members.Voters);
        wire.Learners.AddRange(members.Learners);
        wire.Attributes.Add(members.Attributes);
        return wire;
    }

    public static Membership Decode(W.Membership? members) =>
        members is null
            ? throw new FormatException("membership is missing")
            : new([.. members.Voters], [.. members.Learners]) { Attributes = members.Attributes.ToImmutableSortedDictionary() };

    public static W.HardState Encode(HardState state) => new() { Term = state.Term, VotedFor = state.VotedFor, Commit = state.Commit };

    public static HardState Decode(W.HardState state) => new(state.Term, state.VotedFor, state.Commit);

    public W.SnapshotMeta EncodeMeta(Snapshot snapshot, long stateBytes)
    {
        var sessions = new W.SessionTable { MaxResultsPerSession = (uint)snapshot.Sessions.MaxResultsPerSession };
        foreach (var (clientId, session) in snapshot.Sessions.Sessions)
        {
            var wire = new W.Session { ClientId = clientId, FirstIncomplete = session.FirstIncomplete };
            wire.Results.AddRange(session.Results.Select(r => new W.SessionResult { Sequence = r.Key, Result = Bytes(Commands.EncodeResult(r.Value)) }));
            sessions.Sessions.Add(wire);
        }
        return new W.SnapshotMeta { Index = snapshot.Index, Term = snapshot.Term, Members = Encode(snapshot.Members), Sessions = sessions, StateBytes = (ulong)stateBytes };
    }

    public Snapshot DecodeSnapshot(W.SnapshotMeta meta, ReadOnlySpan<byte> state) => DecodeSnapshot(meta, Commands.DecodeSnapshot(state));

    /// <summary>A snapshot whose image is already decoded or deferred (a <see cref="SnapshotFile"/>).</summary>
    public Snapshot DecodeSnapshot(W.SnapshotMeta meta, IStateSnapshot state)
    {
        ArgumentNullException.ThrowIfNull(meta);
        var sessions = ImmutableSortedDictionary.CreateBuilder<ulong, SessionImage>();
        foreach (var session in meta.Sessions?.Sessions ?? [])
        {
            var results = session.Results.ToImmutableSortedDictionary(r => r.Sequence, r => Commands.DecodeResult(r.Result.Span));
            sessions[session.ClientId] = new SessionImage(session.FirstIncomplete, results);
        }
        var table = new SessionTableImage((int)(meta.Sessions?.MaxResultsPerSession ?? 1), sessions.ToImmutable());
        return new Snapshot(meta.Index, meta.Term, Decode(meta.Members), table, state);
    }

    private IEnumerable<W.Envelope> EncodeSnapshotChunks(InstallSnapshotRequest request)
    {
        // A snapshot file goes out as its bytes; an image in memory is encoded first.
        var (totalBytes, chunks) = request.Snapshot.State is SnapshotFile file
            ? (file.LengthBytes, file.ReadChunks(SnapshotChunkBytes))
            : InMemoryChunks(Commands.EncodeSnapshot(request.Snapshot.State));
        var meta = EncodeMeta(request.Snapshot, totalBytes);
        foreach (var (offset, bytes) in chunks)
        {
            var chunk = new W.InstallSnapshotChunk
            {
                Term = request.Term,
                Meta = offset == 0 ? meta : null,
                Offset = (ulong)offset,
                Data = UnsafeByteOperations.UnsafeWrap(bytes),
                Last = offset + bytes.Length >= totalBytes,
            };
            yield return new W.Envelope { From = request.From, To = request.To, InstallSnapshot = chunk };
        }
    }

    private (long TotalBytes, IEnumerable<(long Offset, byte[] Bytes)> Chunks) InMemoryChunks(byte[] state)
    {
        IEnumerable<(long, byte[])> Split()
        {
            var offset = 0;
            do
            {
                var length = Math.Min(SnapshotChunkBytes, state.Length - offset);
                yield return (offset, state.AsSpan(offset, length).ToArray());
                offset += length;
            }
            while (offset < state.Length);
        }
        return (state.Length, Split());
    }

    private static CommandPayload ToCommandPayload(PooledCommand pooled) => new(pooled.Command, pooled.ProposerNode, pooled.FirstIncompleteSequence);

    private static ByteString Bytes(byte[] bytes) => UnsafeByteOperations.UnsafeWrap(bytes);

    private static T DefinedOrThrow<T>(T value)
        where T : struct, Enum =>
        Enum.IsDefined(value) ? value : throw new FormatException($"unknown {typeof(T).Name} value {value}");
}

/// <summary>Reassembles snapshot chunks from one sender; a snapshot larger than <paramref name="maxSnapshotBytes"/>
/// or chunks out of order are refused (the leader re-sends the snapshot from the start).</summary>
public sealed class SnapshotAssembler(long maxSnapshotBytes = 8L << 30)
{
    private readonly Dictionary<ulong, (W.SnapshotMeta Meta, ulong Term, MemoryStream Data)> pending = [];

    public Message? Add(ulong from, ulong to, W.InstallSnapshotChunk chunk, WireCodec codec)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Offset == 0)
        {
            if (chunk.Meta is null)
            {
                throw new FormatException("the first snapshot chunk has no meta data");
            }
            if ((long)chunk.Meta.StateBytes > maxSnapshotBytes)
            {
                throw new FormatException($"snapshot of {chunk.Meta.StateBytes} bytes exceeds the bound of {maxSnapshotBytes}");
            }
            pending[from] = (chunk.Meta, chunk.Term, new MemoryStream());
        }
        if (!pending.TryGetValue(from, out var building) || (ulong)building.Data.Length != chunk.Offset || building.Term != chunk.Term)
        {
            pending.Remove(from);
            return null; // a chunk was lost or reordered: drop the attempt, the leader retries
        }
        building.Data.Write(chunk.Data.Span);
        if ((ulong)building.Data.Length > building.Meta.StateBytes)
        {
            pending.Remove(from);
            throw new FormatException("snapshot chunks exceed the announced size");
        }
        if (!chunk.Last)
        {
            return null;
        }
        pending.Remove(from);
        var snapshot = codec.DecodeSnapshot(building.Meta, building.Data.GetBuffer().AsSpan(0, (int)building.Data.Length));
        return new InstallSnapshotRequest(from, to, building.Term, snapshot);
    }
}
