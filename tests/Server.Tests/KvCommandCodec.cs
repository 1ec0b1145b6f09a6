using System.Collections.Immutable;
using System.Text;
using CurpStore.Curp;
using CurpStore.GeoSim.Cluster;
using CurpStore.Wire;

namespace CurpStore.Server.Tests;

/// <summary>A codec for the simulator's KV commands, so server plumbing can be tested before the etcd store is in.</summary>
internal sealed class KvCommandCodec : ICommandCodec
{
    public byte[] EncodeCommand(ICommand command)
    {
        var kv = (KvCommand)command;
        return Write(w =>
        {
            w.Write(kv.Id.ClientId);
            w.Write(kv.Id.Sequence);
            w.Write((byte)kv.Operation);
            w.Write(kv.Key);
            WriteNullable(w, kv.Value);
            WriteNullable(w, kv.Expected);
        });
    }

    public ICommand DecodeCommand(ReadOnlySpan<byte> bytes)
    {
        using var r = Reader(bytes);
        return new KvCommand(new ProposeId(r.ReadUInt64(), r.ReadUInt64()), (KvOperation)r.ReadByte(), r.ReadString(), ReadNullable(r), ReadNullable(r));
    }

    public byte[] EncodeResult(ICommandResult result)
    {
        var kv = (KvResult)result;
        return Write(w =>
        {
            w.Write(kv.Succeeded);
            WriteNullable(w, kv.Value);
            w.Write(kv.ModRevision);
            w.Write(kv.HeaderRevision);
        });
    }

    public ICommandResult DecodeResult(ReadOnlySpan<byte> bytes)
    {
        using var r = Reader(bytes);
        return new KvResult(r.ReadBoolean(), ReadNullable(r), r.ReadInt64(), r.ReadInt64());
    }

    public byte[] EncodeSnapshot(IStateSnapshot snapshot)
    {
        var kv = (KvSnapshot)snapshot;
        return Write(w =>
        {
            w.Write(kv.Revision);
            w.Write(kv.Values.Count);
            foreach (var (key, value) in kv.Values)
            {
                w.Write(key);
                w.Write(value.Data);
                w.Write(value.ModRevision);
                w.Write(value.CreateRevision);
                w.Write(value.Version);
            }
        });
    }

    public void WriteSnapshot(IStateSnapshot snapshot, Stream destination) => destination.Write(EncodeSnapshot(snapshot));

    public IStateSnapshot DecodeSnapshot(ReadOnlySpan<byte> bytes)
    {
        using var r = Reader(bytes);
        var revision = r.ReadInt64();
        var values = ImmutableSortedDictionary.CreateBuilder<string, KvValue>(StringComparer.Ordinal);
        for (var count = r.ReadInt32(); count > 0; count--)
        {
            values[r.ReadString()] = new KvValue(r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64());
        }
        return new KvSnapshot(values.ToImmutable(), ImmutableDictionary<ProposeId, long>.Empty, revision);
    }

    private static byte[] Write(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }
        return stream.ToArray();
    }

    private static BinaryReader Reader(ReadOnlySpan<byte> bytes) => new(new MemoryStream(bytes.ToArray()), Encoding.UTF8);

    private static void WriteNullable(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadNullable(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
