namespace CurpStore.Checker.Tests;

/// <summary>Shape of a generated history.</summary>
/// <param name="Clients">Concurrent clients; each has at most one operation outstanding.</param>
/// <param name="OpsPerClient">Operations each client issues.</param>
/// <param name="Keys">Distinct keys; key "k0" is the hot one.</param>
/// <param name="HotKeyShare">Fraction of operations that go to "k0".</param>
/// <param name="UnansweredRate">Fraction of operations whose answer is lost (half of those still take effect).</param>
/// <param name="ValueDomain">0 = every written value is unique; otherwise values are drawn from this many names.</param>
public sealed record HistoryShape(
    int Clients, int OpsPerClient, int Keys, double HotKeyShare, double UnansweredRate, int ValueDomain);

/// <summary>
/// Produces histories that are linearizable by construction: clients run against one sequential store,
/// and each operation takes effect at a single instant strictly inside its [invoke, complete] interval.
/// The store bumps one global revision per effective write, exactly like etcd, so the histories are
/// valid under the strict model too. Times are spaced so that events of different clients never tie.
/// </summary>
public static class SimulatedStoreHistory
{
    private const int MaxLatency = 30;
    private const int Timeout = 100;

    private sealed class Pending
    {
        public long Id;
        public int Client;
        public string Key = "";
        public OperationKind Kind;
        public string? Value;
        public string? Expected;
        public long Invoke;
        public long? Complete;
        public bool Answered;
        public bool TakesEffect;
        public bool Succeeded;
        public string? Read;
        public long ModRevision;
        public long Header;

        public HistoryOperation ToOperation() => new(
            Id, Client, Key, Kind, Value, Expected, Invoke, Answered ? Complete : null,
            Answered && Succeeded, Answered ? Read : null, Answered ? ModRevision : 0, Answered ? Header : 0);
    }

    private enum Phase
    {
        Invoke,
        TakeEffect,
        Complete,
    }

    public static List<HistoryOperation> Generate(int seed, HistoryShape shape)
    {
        var rng = new Random(seed);
        var store = new Dictionary<string, (string Value, long Mod)>(StringComparer.Ordinal);
        long revision = 0;
        long nextId = 1;
        var all = new List<Pending>();
        var current = new Pending?[shape.Clients];
        var issued = new int[shape.Clients];
        var lastSeen = new Dictionary<string, string?>[shape.Clients];
        var queue = new PriorityQueue<(int Client, Phase Phase), long>();
        for (int c = 0; c < shape.Clients; c++)
        {
            lastSeen[c] = new Dictionary<string, string?>(StringComparer.Ordinal);
            queue.Enqueue((c, Phase.Invoke), At(rng.Next(0, 10), c));
        }

        long At(long ticks, int client) => (ticks * shape.Clients) + client;
        long After(long time, int minTicks, int maxTicks) => time + (rng.Next(minTicks, maxTicks) * (long)shape.Clients);

        while (queue.TryDequeue(out (int Client, Phase Phase) ev, out long now))
        {
            int c = ev.Client;
            switch (ev.Phase)
            {
                case Phase.Invoke:
                    if (issued[c]++ == shape.OpsPerClient)
                    {
                        break;
                    }

                    Pending op = NewOperation(rng, shape, c, nextId++, now, lastSeen[c]);
                    double fate = rng.NextDouble();
                    op.Answered = fate >= shape.UnansweredRate;
                    op.TakesEffect = op.Answered || fate < shape.UnansweredRate / 2;
                    current[c] = op;
                    all.Add(op);
                    if (op.TakesEffect)
                    {
                        queue.Enqueue((c, Phase.TakeEffect), After(now, 1, MaxLatency));
                    }
                    else
                    {
                        queue.Enqueue((c, Phase.Invoke), After(now, Timeout, Timeout + 10));
                    }

                    break;

                case Phase.TakeEffect:
                    Apply(current[c]!, store, ref revision);
                    queue.Enqueue(
                        (c, current[c]!.Answered ? Phase.Complete : Phase.Invoke),
                        After(now, 1, current[c]!.Answered ? MaxLatency : Timeout));
                    break;

                case Phase.Complete:
                    Pending done = current[c]!;
                    done.Complete = now;
                    if (done.Kind == OperationKind.Get)
                    {
                        lastSeen[c][done.Key] = done.Read;
                    }
                    else if (done.Kind is OperationKind.Put || done.Succeeded)
                    {
                        lastSeen[c][done.Key] = done.Kind == OperationKind.Delete ? null : done.Value;
                    }

                    queue.Enqueue((c, Phase.Invoke), After(now, 0, 10));
                    break;
            }
        }

        return [.. all.Select(p => p.ToOperation())];
    }

    private static Pending NewOperation(Random rng, HistoryShape shape, int client, long id, long now, Dictionary<string, string?> seen)
    {
        string key = shape.Keys == 1 || rng.NextDouble() < shape.HotKeyShare ? "k0" : "k" + rng.Next(1, shape.Keys);
        double r = rng.NextDouble();
        OperationKind kind = r < 0.4 ? OperationKind.Get
            : r < 0.7 ? OperationKind.Put
            : r < 0.9 ? OperationKind.CompareAndSwap
            : OperationKind.Delete;
        var op = new Pending { Id = id, Client = client, Key = key, Kind = kind, Invoke = now };
        if (kind is OperationKind.Put or OperationKind.CompareAndSwap)
        {
            op.Value = shape.ValueDomain == 0 ? "v" + id : "v" + rng.Next(shape.ValueDomain);
        }

        if (kind == OperationKind.CompareAndSwap)
        {
            op.Expected = seen.TryGetValue(key, out string? last) ? last : null;
        }

        return op;
    }

    private static void Apply(Pending op, Dictionary<string, (string Value, long Mod)> store, ref long revision)
    {
        bool exists = store.TryGetValue(op.Key, out (string Value, long Mod) cur);
        switch (op.Kind)
        {
            case OperationKind.Get:
                op.Succeeded = true;
                op.Read = exists ? cur.Value : null;
                op.ModRevision = exists ? cur.Mod : 0;
                break;
            case OperationKind.Put:
                op.Succeeded = true;
                store[op.Key] = (op.Value!, ++revision);
                op.ModRevision = revision;
                break;
            case OperationKind.Delete:
                op.Succeeded = exists;
                if (exists)
                {
                    store.Remove(op.Key);
                    op.ModRevision = ++revision;
                }

                break;
            case OperationKind.CompareAndSwap:
                op.Succeeded = exists ? cur.Value == op.Expected : op.Expected is null;
                if (op.Succeeded)
                {
                    store[op.Key] = (op.Value!, ++revision);
                    op.ModRevision = revision;
                }

                break;
        }

        op.Header = revision;
    }
}
