using CurpStore.Rpc.Etcd;
using CurpStore.Rpc.Etcd.EtcdServerPb;
using CurpStore.Rpc.Etcd.MvccPb;
using Google.Protobuf;

namespace CurpStore.Rpc.Tests;

/// <summary>
/// A tiny etcd for the interop tests: KV.Range (one key, or [key, range_end)), KV.Put and Maintenance.Status over the
/// generated etcd messages, enough for etcdctl and the Node etcd3 client to put, get and ask for status. It proves that
/// the framing and the protos interoperate with grpc-go and grpc-js, not any store semantics.
/// </summary>
internal sealed class InMemoryEtcd
{
    public const ulong ClusterId = 0x1c2d3e4f5a6b7c8d;
    public const ulong MemberId = 0x8e9e05c52164694d;
    public const string Version = "3.5.0";

    private readonly object _lock = new();
    private readonly SortedDictionary<ByteString, KeyValue> _keys = new(ByteStringComparer.Instance);
    private long _revision = 1;

    public void Register(GrpcServer server) => server
        .AddUnaryMethod(KVMethods.Put, Put)
        .AddUnaryMethod(KVMethods.Range, Range)
        .AddUnaryMethod(MaintenanceMethods.Status, Status);

    private Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        lock (_lock)
        {
            _revision++;
            _keys.TryGetValue(request.Key, out KeyValue? previous);
            _keys[request.Key] = new KeyValue
            {
                Key = request.Key,
                Value = request.Value,
                Lease = request.Lease,
                CreateRevision = previous?.CreateRevision ?? _revision,
                ModRevision = _revision,
                Version = (previous?.Version ?? 0) + 1,
            };
            var response = new PutResponse { Header = Header() };
            if (request.PrevKv && previous is not null)
            {
                response.PrevKv = previous;
            }

            return Task.FromResult(response);
        }
    }

    private Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        lock (_lock)
        {
            List<KeyValue> matches = request.RangeEnd.IsEmpty
                ? (_keys.TryGetValue(request.Key, out KeyValue? one) ? [one] : [])
                : _keys.Values.Where(kv => InRange(kv.Key, request.Key, request.RangeEnd)).ToList();
            var response = new RangeResponse { Header = Header(), Count = matches.Count };
            IEnumerable<KeyValue> returned = request.Limit > 0 ? matches.Take((int)request.Limit) : matches;
            response.More = request.Limit > 0 && matches.Count > request.Limit;
            if (!request.CountOnly)
            {
                response.Kvs.AddRange(request.KeysOnly ? returned.Select(kv => new KeyValue(kv) { Value = ByteString.Empty }) : returned);
            }

            return Task.FromResult(response);
        }
    }

    private Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        lock (_lock)
        {
            return Task.FromResult(new StatusResponse
            {
                Header = Header(),
                Version = Version,
                DbSize = 4096,
                DbSizeInUse = 4096,
                Leader = MemberId,
                RaftIndex = (ulong)_revision,
                RaftTerm = 2,
                RaftAppliedIndex = (ulong)_revision,
            });
        }
    }

    private ResponseHeader Header() => new() { ClusterId = ClusterId, MemberId = MemberId, Revision = _revision, RaftTerm = 2 };

    private static bool InRange(ByteString key, ByteString start, ByteString end) =>
        ByteStringComparer.Instance.Compare(key, start) >= 0 &&
        ((end.Length == 1 && end[0] == 0) || ByteStringComparer.Instance.Compare(key, end) < 0);

    private sealed class ByteStringComparer : IComparer<ByteString>
    {
        public static readonly ByteStringComparer Instance = new();

        public int Compare(ByteString? x, ByteString? y) => x!.Span.SequenceCompareTo(y!.Span);
    }
}
