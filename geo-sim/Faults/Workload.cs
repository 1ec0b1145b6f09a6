using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using CurpStore.Checker;
using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using Google.Protobuf;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Faults;

/// <summary>
/// The clients of a fault run: etcd KV calls (puts, linearizable gets, compare-and-swap txns) on a small key set, each
/// recorded with its invocation and completion time as the checker expects. A write whose call failed after it may
/// have reached a member is recorded without completion (outcome unknown); one refused at connect never left the
/// client and is not recorded; a failed get is not recorded (a read has no effect).
/// </summary>
internal sealed class Workload(MemberCluster cluster, int keyCount, Action<string> log)
{
    /// <summary>Prefix of every key the clients touch (and the watchers watch).</summary>
    public const string Prefix = "/faults/";

    /// <summary>Bound on one client call; a longer call counts as outcome unknown.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentQueue<HistoryOperation> history = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long nextId;
    private long indeterminate;

    public IReadOnlyList<HistoryOperation> History => [.. history];

    public long Indeterminate => Interlocked.Read(ref indeterminate);

    public long Recorded => history.Count;

    public static string Key(int index) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}k{index:D2}");

    /// <summary>Key and value of every write answered as done.</summary>
    public IEnumerable<(string Key, string Value)> Acknowledged() =>
        history.Where(o => o.CompleteTime.HasValue && (o.Kind == OperationKind.Put || (o.Kind == OperationKind.CompareAndSwap && o.Succeeded)))
            .Select(o => (o.Key, o.Value!));

    /// <summary>One client: calls the member in <paramref name="slot"/> until <paramref name="stop"/>.</summary>
    public async Task RunClientAsync(int client, int slot, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var known = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            var key = Key(random.Next(keyCount));
            var value = string.Create(CultureInfo.InvariantCulture, $"c{client}-{sequence}");
            var draw = random.NextDouble();
            bool ok;
            if (draw < 0.45)
            {
                ok = await PutAsync(client, slot, key, value).ConfigureAwait(false);
                known[key] = ok ? value : known.GetValueOrDefault(key);
            }
            else if (draw < 0.75)
            {
                var read = await GetAsync(client, slot, key).ConfigureAwait(false);
                ok = read.Ok;
                if (ok)
                {
                    known[key] = read.Value;
                }
            }
            else
            {
                var expected = known.GetValueOrDefault(key);
                var swapped = await CompareAndSwapAsync(client, slot, key, expected, value).ConfigureAwait(false);
                ok = swapped is not null;
                if (swapped == true)
                {
                    known[key] = value;
                }
                else if (swapped == false)
                {
                    known.Remove(key); // learn the value again with the next get
                }
            }
            if (!ok)
            {
                await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A recorded put; true when answered.</summary>
    public async Task<bool> PutAsync(int client, int slot, string key, string value)
    {
        var invoke = Now();
        try
        {
            var response = await cluster.Channel(slot).UnaryAsync(KVMethods.Put,
                new Pb.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, Options()).ConfigureAwait(false);
            Record(client, key, OperationKind.Put, value, null, invoke, Now(), true, null, response.Header.Revision, response.Header.Revision);
            return true;
        }
        catch (Exception e) when (MemberCluster.IsCallFailure(e))
        {
            RecordFailedWrite(client, key, OperationKind.Put, value, null, invoke, e);
            return false;
        }
    }

    private async Task<(bool Ok, string? Value)> GetAsync(int client, int slot, string key)
    {
        var invoke = Now();
        try
        {
            var response = await cluster.Channel(slot).UnaryAsync(KVMethods.Range, new Pb.RangeRequest { Key = ByteString.CopyFromUtf8(key) }, Options()).ConfigureAwait(false);
            var kv = response.Kvs.FirstOrDefault();
            var value = kv?.Value.ToStringUtf8();
            Record(client, key, OperationKind.Get, null, null, invoke, Now(), true, value, kv?.ModRevision ?? 0, response.Header.Revision);
            return (true, value);
        }
        catch (Exception e) when (MemberCluster.IsCallFailure(e))
        {
            return (false, null);
        }
    }

    /// <summary>A Txn: if the key holds <paramref name="expected"/> (absent when null) then put <paramref name="value"/>.
    /// Returns whether it swapped, or null when the outcome is unknown.</summary>
    private async Task<bool?> CompareAndSwapAsync(int client, int slot, string key, string? expected, string value)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        var compare = expected is null
            ? new Pb.Compare { Key = keyBytes, Target = Pb.Compare.Types.CompareTarget.Create, Result = Pb.Compare.Types.CompareResult.Equal, CreateRevision = 0 }
            : new Pb.Compare { Key = keyBytes, Target = Pb.Compare.Types.CompareTarget.Value, Result = Pb.Compare.Types.CompareResult.Equal, Value = ByteString.CopyFromUtf8(expected) };
        var invoke = Now();
        try
        {
            var response = await cluster.Channel(slot).UnaryAsync(KVMethods.Txn, new Pb.TxnRequest
            {
                Compare = { compare },
                Success = { new Pb.RequestOp { RequestPut = new Pb.PutRequest { Key = keyBytes, Value = ByteString.CopyFromUtf8(value) } } },
            }, Options()).ConfigureAwait(false);
            Record(client, key, OperationKind.CompareAndSwap, value, expected, invoke, Now(), response.Succeeded, null,
                response.Succeeded ? response.Header.Revision : 0, response.Header.Revision);
            return response.Succeeded;
        }
        catch (Exception e) when (MemberCluster.IsCallFailure(e))
        {
            RecordFailedWrite(client, key, OperationKind.CompareAndSwap, value, expected, invoke, e);
            return null;
        }
    }

    private void RecordFailedWrite(int client, string key, OperationKind kind, string value, string? expected, long invoke, Exception e)
    {
        if (WasRefused(e))
        {
            return; // never sent: no effect, nothing to record
        }
        Interlocked.Increment(ref indeterminate);
        Record(client, key, kind, value, expected, invoke, null, false, null, 0, 0);
    }

    private void Record(int client, string key, OperationKind kind, string? value, string? expected, long invoke, long? complete, bool succeeded, string? read, long modRevision, long headerRevision)
    {
        history.Enqueue(new HistoryOperation(Interlocked.Increment(ref nextId), client, key, kind, value, expected, invoke, complete, succeeded, read, modRevision, headerRevision));
        if (history.Count % 2_000 == 0)
        {
            log($"{history.Count} operations recorded ({Indeterminate} with unknown outcome)");
        }
    }

    /// <summary>A connect the member refused: the request never left the client.</summary>
    private static bool WasRefused(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }
        return false;
    }

    private long Now() => clock.Elapsed.Ticks / 10; // microseconds, shared by every client

    private static CallOptions Options() => new(Deadline: DateTime.UtcNow + CallTimeout);
}
