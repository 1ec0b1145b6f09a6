using CurpStore.Checker;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

/// <summary>A simulated client in one region: a real <see cref="Proposer"/> running a closed-loop workload, recording
/// every operation (invocation, completion, result) for the checkers and the latency report.</summary>
public sealed class SimClient
{
    private readonly SimRandom random;
    private readonly double conflictRatio;
    private readonly Dictionary<ProposeId, PendingOperation> pending = [];
    private long nextOperationId;

    private readonly SimMachine machine;

    public SimClient(ulong id, int index, string region, ProposerConfig config, SimRandom random, double conflictRatio, SimMachine machine)
    {
        this.machine = machine;
        Id = id;
        Index = index;
        Region = region;
        Proposer = new Proposer(config);
        this.random = random;
        this.conflictRatio = conflictRatio;
    }

    public ulong Id { get; }

    public int Index { get; }

    public string Region { get; }

    public Proposer Proposer { get; }

    public bool Running { get; set; } = true;

    public bool Idle => pending.Count == 0;

    public List<HistoryOperation> History { get; } = [];

    public List<WriteSample> Writes { get; } = [];

    private sealed record PendingOperation(long OperationId, WorkloadOperation Command, long InvokeMicros);

    /// <summary>Issues the next operation if the client is running, has a session and nothing outstanding.</summary>
    public void MaybeIssue(long nowMicros)
    {
        if (!Running || !Proposer.HasSession || pending.Count > 0)
        {
            return;
        }
        var hot = random.Chance(conflictRatio);
        var roll = random.NextDouble();
        var sequenceValue = $"v{Index}.{nextOperationId}";
        if (roll < 0.1)
        {
            // Reads go to the hot key or to one of this client's earlier keys (possibly still uncommitted).
            var readKey = hot || writtenKeys.Count == 0 ? "hot" : writtenKeys[random.Next(writtenKeys.Count)];
            var read = new WorkloadOperation(KvOperation.Get, readKey);
            var readId = Proposer.NextReadId();
            pending[readId] = new PendingOperation(nextOperationId++, read, nowMicros);
            Proposer.Read(machine.Build(readId, read));
            return;
        }
        // A write that is not aimed at the hot key takes a key nobody has used: it conflicts with nothing, not even
        // this client's own earlier writes that may still be uncommitted.
        var key = hot ? "hot" : $"c{Index}/k{nextOperationId}";
        if (!hot)
        {
            writtenKeys.Add(key);
            if (writtenKeys.Count > 64)
            {
                writtenKeys.RemoveAt(0);
            }
        }
        var write = roll switch
        {
            < 0.8 => new WorkloadOperation(KvOperation.Put, key, sequenceValue),
            < 0.9 => new WorkloadOperation(KvOperation.CompareAndSwap, key, sequenceValue, random.Chance(0.5) ? null : LastValueSeen(key)),
            _ => new WorkloadOperation(KvOperation.Delete, key),
        };
        var id = Proposer.NextId();
        pending[id] = new PendingOperation(nextOperationId++, write, nowMicros);
        Proposer.Propose(machine.Build(id, write));
    }

    public void OnCompletion(Completion completion, long nowMicros)
    {
        if (!pending.Remove(completion.Id, out var operation))
        {
            return;
        }
        var command = operation.Command;
        var result = completion.Result is { } answer ? machine.Interpret(command, answer) : null;
        var answered = completion.Succeeded && result is not null;
        History.Add(new HistoryOperation(
            Id: ((long)Index << 32) | operation.OperationId,
            Client: Index,
            Key: command.Key,
            Kind: command.Operation switch
            {
                KvOperation.Put => OperationKind.Put,
                KvOperation.Get => OperationKind.Get,
                KvOperation.Delete => OperationKind.Delete,
                _ => OperationKind.CompareAndSwap,
            },
            Value: command.Value,
            Expected: command.Expected,
            InvokeTime: operation.InvokeMicros,
            // An error leaves the outcome unknown (the command may still sit in pools and be ordered later).
            CompleteTime: answered ? nowMicros : null,
            Succeeded: result?.Succeeded ?? false,
            ReadValue: command.Operation == KvOperation.Get ? result?.Value : null,
            ModRevision: result?.ModRevision ?? 0,
            HeaderRevision: result?.HeaderRevision ?? 0));
        if (answered && command.Operation != KvOperation.Get)
        {
            lastValues[command.Key] = result!.Succeeded && command.Operation != KvOperation.Delete ? command.Value : null;
            Writes.Add(new WriteSample(completion.Id, (nowMicros - operation.InvokeMicros) / 1000.0, completion.Path, result.Succeeded ? result.ModRevision : 0));
        }
        else if (answered && result is not null)
        {
            lastValues[command.Key] = result.Value;
        }
    }

    private readonly Dictionary<string, string?> lastValues = [];
    private readonly List<string> writtenKeys = [];

    private string? LastValueSeen(string key) => lastValues.GetValueOrDefault(key);
}

/// <summary>One acknowledged write: latency, the path that completed it, and the revision it was answered with.</summary>
public sealed record WriteSample(ProposeId Id, double LatencyMs, CompletionPath Path, long AnsweredRevision);
