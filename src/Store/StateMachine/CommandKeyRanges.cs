using System.Buffers.Binary;
using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The key ranges an etcd request reads or writes, for CURP's conflict checks. Leases have no keys of their own, so
/// each lease gets a marker key in a reserved corner of the key space ("\0curpstore/lease/" + id): a put with a lease
/// and the grant of that lease then conflict and keep their order. A user key can collide with a marker; that only
/// causes a needless conflict (slow path), never a wrong answer.
/// </summary>
public static class CommandKeyRanges
{
    /// <summary>Every key, markers included: for requests whose effects cannot be bounded up front.</summary>
    public static readonly KeyRange AllKeys = KeyRange.FromKey([]);

    private static readonly byte[] LeaseMarkerPrefix = "\0curpstore/lease/"u8.ToArray();

    /// <summary>What auth reads and authentications touch. Auth changes take <see cref="AllKeys"/> (they decide every
    /// later permission check), so they conflict with these too.</summary>
    public static readonly KeyRange AuthMarker = KeyRange.Single("\0curpstore/auth"u8.ToArray());

    /// <summary>What a linearizable member list reads. No command writes it: configuration changes are the core's own
    /// log entries, so such a read waits for the ReadIndex only.</summary>
    public static readonly KeyRange MembersMarker = KeyRange.Single("\0curpstore/members"u8.ToArray());

    /// <summary>Every lease marker: a grant whose id the store will choose may collide with any of them.</summary>
    public static readonly KeyRange AllLeaseMarkers = KeyRange.Prefix(LeaseMarkerPrefix);

    public static KeyRange LeaseMarker(long leaseId)
    {
        var key = new byte[LeaseMarkerPrefix.Length + 8];
        LeaseMarkerPrefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(LeaseMarkerPrefix.Length), leaseId);
        return KeyRange.Single(key);
    }

    public static IReadOnlyList<KeyRange> Of(EtcdRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ranges = new List<KeyRange>();
        switch (request)
        {
            case RangeRequest range:
                ranges.Add(new KeyRange(range.Key, range.RangeEnd));
                break;
            case PutRequest put:
                AddPut(ranges, put);
                break;
            case DeleteRangeRequest delete:
                ranges.Add(new KeyRange(delete.Key, delete.RangeEnd));
                break;
            case TxnRequest txn:
                AddTxn(ranges, txn);
                break;
            case LeaseGrantRequest grant:
                ranges.Add(grant.Id != 0 ? LeaseMarker(grant.Id) : AllLeaseMarkers);
                break;
            case LeaseCheckpointRequest checkpoint:
                ranges.AddRange(checkpoint.Checkpoints.Select(c => LeaseMarker(c.Id)));
                break;
            case AuthenticateRequest or AuthStatusRequest or UserGetRequest or UserListRequest or RoleGetRequest or RoleListRequest:
                ranges.Add(AuthMarker);
                break;
            default:
                // Compaction changes what every old read answers; a revoke deletes keys only the store knows; an auth
                // change decides whether any later request is permitted.
                ranges.Add(AllKeys);
                break;
        }
        return ranges;
    }

    private static void AddPut(List<KeyRange> ranges, PutRequest put)
    {
        ranges.Add(KeyRange.Single(put.Key));
        if (put.Lease != 0)
        {
            ranges.Add(LeaseMarker(put.Lease));
        }
    }

    /// <summary>Compares and both branches: which branch runs is only known at execution.</summary>
    private static void AddTxn(List<KeyRange> ranges, TxnRequest txn)
    {
        foreach (var compare in txn.Compare)
        {
            ranges.Add(new KeyRange(compare.Key, compare.RangeEnd));
        }
        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            switch (op)
            {
                case { RequestRange: { } range }:
                    ranges.Add(new KeyRange(range.Key, range.RangeEnd));
                    break;
                case { RequestPut: { } put }:
                    AddPut(ranges, put);
                    break;
                case { RequestDeleteRange: { } delete }:
                    ranges.Add(new KeyRange(delete.Key, delete.RangeEnd));
                    break;
                case { RequestTxn: { } inner }:
                    AddTxn(ranges, inner);
                    break;
            }
        }
    }
}
