using System.Reflection;
using CurpStore.Curp;
using CurpStore.Wire;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Wire.Etcd;

/// <summary>
/// The etcd state machine's commands, results and snapshot images as bytes. Every form starts with a tag byte (what it
/// is) and a format version, then protobuf-encoded fields: a command is its propose id and its request as the etcd
/// message; a result is an <see cref="Store.EtcdError"/> (gRPC code and etcd's message) or a response as the etcd
/// message (header revision only); a snapshot is described in the Snapshot part. Anything unknown, truncated or
/// followed by extra bytes is refused with <see cref="FormatException"/>.
/// </summary>
/// <remarks>A command's <see cref="Store.Compare"/> keeps only the operand its target reads (see
/// <see cref="EtcdProtoMapping.ToProto(Store.Compare)"/>); everything else round-trips exactly, lease listings with
/// their TTLs included.</remarks>
public sealed partial class EtcdCommandCodec : ICommandCodec
{
    public const byte CommandTag = (byte)'C';
    public const byte ResultTag = (byte)'R';
    public const byte SnapshotTag = (byte)'S';

    /// <summary>The version of all three forms; a decoder refuses any other.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Every error the store can answer, by etcd's message (stable, unlike enum numbers).</summary>
    private static readonly Dictionary<string, Store.EtcdError> ErrorsByMessage = typeof(Store.EtcdError)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.FieldType == typeof(Store.EtcdError))
        .Select(field => (Store.EtcdError)field.GetValue(null)!)
        .ToDictionary(error => error.Message, StringComparer.Ordinal);

    /// <summary>Request kinds on the wire; numbers are part of the format.</summary>
    private enum RequestKind : byte
    {
        Range = 1,
        Put = 2,
        DeleteRange = 3,
        Txn = 4,
        Compaction = 5,
        LeaseGrant = 6,
        LeaseRevoke = 7,
        LeaseCheckpoint = 8,
        Alarm = 9,

        /// <summary>Not a request: the requester's identity (<see cref="Store.RequestAuth"/>), followed by the request.</summary>
        Authorized = 20,
        AuthEnable = 21,
        AuthDisable = 22,
        AuthStatus = 23,
        Authenticate = 24,
        UserAdd = 25,
        UserGet = 26,
        UserList = 27,
        UserDelete = 28,
        UserChangePassword = 29,
        UserGrantRole = 30,
        UserRevokeRole = 31,
        RoleAdd = 32,
        RoleGet = 33,
        RoleList = 34,
        RoleDelete = 35,
        RoleGrantPermission = 36,
        RoleRevokePermission = 37,
    }

    /// <summary>Result kinds on the wire; numbers are part of the format.</summary>
    private enum ResultKind : byte
    {
        Error = 1,
        Range = 2,
        Put = 3,
        DeleteRange = 4,
        Txn = 5,
        Compaction = 6,
        LeaseGrant = 7,
        LeaseRevoke = 8,
        LeaseCheckpoint = 9,
        LeaseKeepAlive = 10,
        LeaseTimeToLive = 11,
        LeaseLeases = 12,
        Alarm = 13,
        AuthChange = 20,
        AuthStatus = 21,
        Authenticate = 22,
        AuthNames = 23,
        RoleGet = 24,
    }

    public byte[] EncodeCommand(ICommand command)
    {
        var etcd = command as Store.EtcdCommand
            ?? throw new ArgumentException($"expected an {nameof(Store.EtcdCommand)}, got {command?.GetType().Name ?? "null"}", nameof(command));
        var kind = etcd.Request switch
        {
            Store.RangeRequest => RequestKind.Range,
            Store.PutRequest => RequestKind.Put,
            Store.DeleteRangeRequest => RequestKind.DeleteRange,
            Store.TxnRequest => RequestKind.Txn,
            Store.CompactionRequest => RequestKind.Compaction,
            Store.LeaseGrantRequest => RequestKind.LeaseGrant,
            Store.LeaseRevokeRequest => RequestKind.LeaseRevoke,
            Store.LeaseCheckpointRequest => RequestKind.LeaseCheckpoint,
            Store.AlarmRequest => RequestKind.Alarm,
            _ => AuthKindOf(etcd.Request) ?? throw new ArgumentException($"no wire form for {etcd.Request.GetType().Name}", nameof(command)),
        };
        return Write(CommandTag, output =>
        {
            output.WriteUInt64(etcd.Id.ClientId);
            output.WriteUInt64(etcd.Id.Sequence);
            if (etcd.Request.Auth is { } auth)
            {
                output.WriteRawTag((byte)RequestKind.Authorized);
                WriteRequestAuth(output, auth);
            }
            output.WriteRawTag((byte)kind);
            if (etcd.Request is Store.AuthenticateRequest authenticate)
            {
                WriteAuthenticate(output, authenticate);
            }
            else
            {
                output.WriteMessage(EtcdProtoMapping.ToProto(etcd.Request));
            }
        });
    }

    public ICommand DecodeCommand(ReadOnlySpan<byte> bytes)
    {
        var reader = Open(bytes, CommandTag, "command");
        var id = new ProposeId(reader.ReadVarint64(), reader.ReadVarint64());
        var kind = (RequestKind)reader.ReadByte();
        Store.RequestAuth? auth = null;
        if (kind == RequestKind.Authorized)
        {
            auth = ReadRequestAuth(ref reader);
            kind = (RequestKind)reader.ReadByte();
        }
        Store.EtcdRequest request = kind switch
        {
            RequestKind.Range => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.RangeRequest.Parser)),
            RequestKind.Put => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.PutRequest.Parser)),
            RequestKind.DeleteRange => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.DeleteRangeRequest.Parser)),
            RequestKind.Txn => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.TxnRequest.Parser)),
            RequestKind.Compaction => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.CompactionRequest.Parser)),
            RequestKind.LeaseGrant => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseGrantRequest.Parser)),
            RequestKind.LeaseRevoke => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseRevokeRequest.Parser)),
            RequestKind.LeaseCheckpoint => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseCheckpointRequest.Parser)),
            RequestKind.Alarm => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.AlarmRequest.Parser)),
            >= RequestKind.AuthEnable and <= RequestKind.RoleRevokePermission => ReadAuthRequest(ref reader, kind),
            var unknown => throw reader.Malformed($"unknown request kind {(byte)unknown}"),
        };
        reader.ExpectEnd();
        return new Store.EtcdCommand(id, auth is null ? request : request with { Auth = auth });
    }

    public byte[] EncodeResult(ICommandResult result) => result switch
    {
        Store.EtcdError error => Write(ResultTag, output =>
        {
            output.WriteRawTag((byte)ResultKind.Error);
            output.WriteUInt32((uint)error.Code);
            output.WriteString(error.Message);
        }),
        Store.LeaseLeasesResponse leases => Write(ResultTag, output =>
        {
            // etcd's LeaseStatus has no TTLs, so the listing has a form of its own that keeps them.
            output.WriteRawTag((byte)ResultKind.LeaseLeases);
            output.WriteInt64(leases.Header.Revision);
            output.WriteUInt32((uint)leases.Leases.Count);
            foreach (var lease in leases.Leases)
            {
                output.WriteInt64(lease.Id);
                output.WriteInt64(lease.TtlSeconds);
                output.WriteInt64(lease.GrantedTtlSeconds);
            }
        }),
        Store.AuthChangeResponse or Store.AuthStatusResponse or Store.AuthenticateResponse or Store.AuthNamesResponse or Store.RoleGetResponse =>
            Write(ResultTag, output => WriteAuthResult(output, (Store.EtcdResponse)result)),
        Store.EtcdResponse response => Write(ResultTag, output =>
        {
            output.WriteRawTag((byte)KindOf(response));
            output.WriteMessage(EtcdProtoMapping.ToProto(response, EtcdHeaderIds.None));
        }),
        _ => throw new ArgumentException($"no wire form for {result?.GetType().Name ?? "null"}", nameof(result)),
    };

    public ICommandResult DecodeResult(ReadOnlySpan<byte> bytes)
    {
        var reader = Open(bytes, ResultTag, "result");
        ICommandResult result = (ResultKind)reader.ReadByte() switch
        {
            ResultKind.Error => ReadError(ref reader),
            ResultKind.LeaseLeases => ReadLeases(ref reader),
            ResultKind.Range => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.RangeResponse.Parser)),
            ResultKind.Put => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.PutResponse.Parser)),
            ResultKind.DeleteRange => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.DeleteRangeResponse.Parser)),
            ResultKind.Txn => ReadTxn(ref reader),
            ResultKind.Compaction => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.CompactionResponse.Parser)),
            ResultKind.LeaseGrant => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseGrantResponse.Parser)),
            ResultKind.LeaseRevoke => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseRevokeResponse.Parser)),
            ResultKind.LeaseCheckpoint => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseCheckpointResponse.Parser)),
            ResultKind.LeaseKeepAlive => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseKeepAliveResponse.Parser)),
            ResultKind.LeaseTimeToLive => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.LeaseTimeToLiveResponse.Parser)),
            ResultKind.Alarm => EtcdProtoMapping.ToStore(reader.ReadMessage(Pb.AlarmResponse.Parser)),
            var auth and >= ResultKind.AuthChange and <= ResultKind.RoleGet => ReadAuthResult(ref reader, auth),
            var unknown => throw reader.Malformed($"unknown result kind {(byte)unknown}"),
        };
        reader.ExpectEnd();
        return result;
    }

    private static ResultKind KindOf(Store.EtcdResponse response) => response switch
    {
        Store.RangeResponse => ResultKind.Range,
        Store.PutResponse => ResultKind.Put,
        Store.DeleteRangeResponse => ResultKind.DeleteRange,
        Store.TxnResponse => ResultKind.Txn,
        Store.CompactionResponse => ResultKind.Compaction,
        Store.LeaseGrantResponse => ResultKind.LeaseGrant,
        Store.LeaseRevokeResponse => ResultKind.LeaseRevoke,
        Store.LeaseCheckpointResponse => ResultKind.LeaseCheckpoint,
        Store.LeaseKeepAliveResponse => ResultKind.LeaseKeepAlive,
        Store.LeaseTimeToLiveResponse => ResultKind.LeaseTimeToLive,
        Store.AlarmResponse => ResultKind.Alarm,
        _ => throw new ArgumentException($"no wire form for {response.GetType().Name}", nameof(response)),
    };

    /// <summary>Errors decode to the store's own instances, so they still compare by reference; an error this build
    /// does not know (or whose code disagrees) is refused rather than invented.</summary>
    private static Store.EtcdError ReadError(ref CodecReader reader)
    {
        var code = reader.ReadVarint64();
        var message = reader.ReadString();
        if (!ErrorsByMessage.TryGetValue(message, out var error))
        {
            throw reader.Malformed($"unknown etcd error \"{message}\"");
        }
        return (ulong)error.Code == code ? error : throw reader.Malformed($"etcd error \"{message}\" with code {code} instead of {(int)error.Code}");
    }

    private static Store.LeaseLeasesResponse ReadLeases(ref CodecReader reader)
    {
        var revision = reader.ReadInt64();
        var count = reader.ReadCount(minBytesEach: 3); // three varints
        var leases = new List<Store.LeaseStatus>(count);
        for (var i = 0; i < count; i++)
        {
            leases.Add(new Store.LeaseStatus(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()));
        }
        return new Store.LeaseLeasesResponse { Header = new Store.ResponseHeader(revision), Leases = leases };
    }

    private static Store.TxnResponse ReadTxn(ref CodecReader reader)
    {
        var proto = reader.ReadMessage(Pb.TxnResponse.Parser);
        try
        {
            return EtcdProtoMapping.ToStore(proto);
        }
        catch (FormatException e)
        {
            throw reader.Malformed(e.Message);
        }
    }

    private static CodecReader Open(ReadOnlySpan<byte> bytes, byte tag, string what)
    {
        var reader = new CodecReader(bytes, what);
        var actualTag = reader.ReadByte();
        if (actualTag != tag)
        {
            throw reader.Malformed($"starts with tag 0x{actualTag:x2}, not 0x{tag:x2}");
        }
        var version = reader.ReadByte();
        return version == FormatVersion ? reader : throw reader.Malformed($"format version {version} is not {FormatVersion}");
    }

    /// <summary>The encoder's buffer for a command or result: most are a few hundred bytes, and the default (4 KiB) was a
    /// third of all the bytes a member allocated per put.</summary>
    private const int SmallBufferBytes = 512;

    /// <summary>The encoder's buffer for a snapshot image written to a file.</summary>
    internal const int ImageBufferBytes = 64 * 1024;

    private static byte[] Write(byte tag, Action<CodedOutputStream> body)
    {
        using var stream = new MemoryStream();
        Write(tag, stream, SmallBufferBytes, body);
        return stream.ToArray();
    }

    private static void Write(byte tag, Stream destination, int bufferBytes, Action<CodedOutputStream> body)
    {
        using var output = new CodedOutputStream(destination, bufferBytes, leaveOpen: true);
        output.WriteRawTag(tag);
        output.WriteRawTag(FormatVersion);
        body(output);
    }
}
