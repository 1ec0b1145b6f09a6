using System.Buffers.Binary;
using CurpStore.Curp;
using CurpStore.Store;
using CurpStore.Wal;
using CurpStore.Wire.Etcd;
using Google.Protobuf;
using Mvcc = CurpStore.Rpc.Etcd.MvccPb;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Facade;

/// <summary>etcd's HashKV: a CRC-32C (Castagnoli) over the bucket name "key" and every stored record up to the
/// revision, each as etcd stores it in bbolt (key: big-endian main revision, '_', big-endian sub revision, 't' for a
/// tombstone; value: the mvccpb.KeyValue, only the key for a tombstone), so members with the same history agree, and
/// agree with etcd itself (checked against etcd 3.4). Served to clients (Maintenance.HashKV) and to the other members
/// on the peer URL for the corruption check.</summary>
public static class KvHash
{
    /// <summary>Computes the hash at <paramref name="revision"/> (0 = the current one) on the member's loop thread;
    /// etcd's errors for a compacted or future revision.</summary>
    public static async Task<Pb.HashKVResponse> ComputeAsync(EtcdFacadeContext facade, long revision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(facade);
        var machine = facade.Machine;
        var (hash, hashRevision, compactRevision, current) = await facade.Host.InvokeAsync(_ =>
        {
            var (hashRevision, error) = machine.HashRevisionFor(revision);
            EtcdFacadeContext.ThrowIfInvalid(error);
            var compactRevision = machine.CompactedRevision;
            var keep = compactRevision > 0 ? KeptAt(machine, hashRevision) : [];
            var state = Crc32C.Append(~0u, "key"u8);
            foreach (var record in machine.RecordsUpTo(hashRevision))
            {
                // etcd's hashByRev skips a record at or below the compacted revision unless compacting at the hashed
                // revision would keep it (and keeps all of them when that would keep nothing).
                if (record.Revision.Main > compactRevision || keep.Count == 0 || keep.Contains(record.Revision))
                {
                    state = AppendRecord(state, record);
                }
            }
            return (~state, hashRevision, compactRevision, machine.Revision);
        }, cancellationToken).ConfigureAwait(false);
        return new Pb.HashKVResponse { Header = facade.Header(current), Hash = hash, HashRevision = hashRevision, CompactRevision = compactRevision };
    }

    /// <summary>etcd's <c>kvindex.Keep(revision)</c>: per key its latest revision up to <paramref name="revision"/>,
    /// unless that is a tombstone.</summary>
    private static HashSet<Revision> KeptAt(EtcdStateMachine machine, long revision)
    {
        var latest = new Dictionary<byte[], KvRecord>(ByteKeyComparer.Instance);
        foreach (var record in machine.RecordsUpTo(revision))
        {
            latest[record.Kv.Key] = record;
        }
        return [.. latest.Values.Where(r => !r.IsTombstone).Select(r => r.Revision)];
    }

    private static uint AppendRecord(uint state, KvRecord record)
    {
        Span<byte> key = stackalloc byte[18];
        BinaryPrimitives.WriteInt64BigEndian(key, record.Revision.Main);
        key[8] = (byte)'_';
        BinaryPrimitives.WriteInt64BigEndian(key[9..], record.Revision.Sub);
        key[17] = (byte)'t';
        state = Crc32C.Append(state, record.IsTombstone ? key : key[..17]);
        var value = record.IsTombstone ? new Mvcc.KeyValue { Key = ByteString.CopyFrom(record.Kv.Key) } : EtcdProtoMapping.ToProto(record.Kv);
        return Crc32C.Append(state, value.ToByteArray());
    }
}
