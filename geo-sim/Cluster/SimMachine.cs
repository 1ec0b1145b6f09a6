using System.Text;
using CurpStore.Curp;
using CurpStore.Store;

namespace CurpStore.GeoSim.Cluster;

/// <summary>One client operation of the workload, whatever state machine runs it.</summary>
public sealed record WorkloadOperation(KvOperation Operation, string Key, string? Value = null, string? Expected = null);

/// <summary>
/// What the simulator needs of a replicated state machine: how to build a workload operation as its command, how to
/// read its answer back (as the checker's terms: succeeded, value, mod revision, header revision), and its digest and
/// speculation counter.
/// </summary>
public abstract class SimMachine
{
    public static SimMachine For(MachineKind kind) => kind switch
    {
        MachineKind.Etcd => new EtcdSimMachine(),
        MachineKind.Kv => new KvSimMachine(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public abstract IStateMachine Create();

    public abstract ICommand Build(ProposeId id, WorkloadOperation operation);

    public abstract KvResult Interpret(WorkloadOperation operation, ICommandResult result);

    /// <summary>The revision a write was applied at, or 0 when it changed nothing (a failed compare, a delete of nothing).</summary>
    public long AppliedRevision(ICommand command, ICommandResult result)
    {
        var interpreted = Interpret(new WorkloadOperation(KvOperation.Put, command.Id.ToString()), result);
        return interpreted.Succeeded ? interpreted.ModRevision : 0;
    }

    public abstract ulong Digest(IStateMachine machine);

    public abstract long SpeculationMismatches(IStateMachine machine);
}

/// <summary>The simulator's small KV model.</summary>
public sealed class KvSimMachine : SimMachine
{
    public override IStateMachine Create() => new KvStateMachine();

    public override ICommand Build(ProposeId id, WorkloadOperation operation) =>
        new KvCommand(id, operation.Operation, operation.Key, operation.Value, operation.Expected);

    public override KvResult Interpret(WorkloadOperation operation, ICommandResult result) => (KvResult)result;

    public override ulong Digest(IStateMachine machine) => ((KvStateMachine)machine).StateDigest();

    public override long SpeculationMismatches(IStateMachine machine) => ((KvStateMachine)machine).SpeculationMismatches;
}

/// <summary>The etcd store on its in-memory engine: puts, linearizable ranges, deletes, and compare-and-swap as the
/// Txn an etcd client sends for it (value compare, or version 0 for "absent").</summary>
public sealed class EtcdSimMachine : SimMachine
{
    private static readonly EtcdStoreOptions Options = new() { VerifySpeculation = true };

    public override IStateMachine Create() => new EtcdStateMachine(new InMemoryKvEngine(), Options);

    public override ICommand Build(ProposeId id, WorkloadOperation operation)
    {
        var key = Encoding.UTF8.GetBytes(operation.Key);
        EtcdRequest request = operation.Operation switch
        {
            KvOperation.Put => new PutRequest { Key = key, Value = Encoding.UTF8.GetBytes(operation.Value ?? ""), PrevKv = true },
            KvOperation.Get => new RangeRequest { Key = key },
            KvOperation.Delete => new DeleteRangeRequest { Key = key, PrevKv = true },
            KvOperation.CompareAndSwap => new TxnRequest
            {
                Compare = [operation.Expected is null
                    ? new Compare { Key = key, Target = CompareTarget.Version, Result = CompareResult.Equal, Version = 0 }
                    : new Compare { Key = key, Target = CompareTarget.Value, Result = CompareResult.Equal, Value = Encoding.UTF8.GetBytes(operation.Expected) }],
                Success = [new PutRequest { Key = key, Value = Encoding.UTF8.GetBytes(operation.Value ?? "") }],
            },
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation.Operation, null),
        };
        return new EtcdCommand(id, request);
    }

    public override KvResult Interpret(WorkloadOperation operation, ICommandResult result)
    {
        if (result is EtcdError error)
        {
            throw new InvalidOperationException($"the workload's {operation.Operation} on {operation.Key} failed: {error}");
        }
        var header = ((EtcdResponse)result).Header.Revision;
        return result switch
        {
            PutResponse put => new KvResult(true, Text(put.PrevKv), header, header),
            RangeResponse range => new KvResult(true, Text(range.Kvs.FirstOrDefault()), range.Kvs.FirstOrDefault()?.ModRevision ?? 0, header),
            DeleteRangeResponse delete => new KvResult(delete.Deleted > 0, Text(delete.PrevKvs.FirstOrDefault()), delete.Deleted > 0 ? header : 0, header),
            TxnResponse txn => new KvResult(txn.Succeeded, null, txn.Succeeded ? header : 0, header),
            _ => throw new InvalidOperationException($"unexpected answer {result.GetType().Name}"),
        };
    }

    public override ulong Digest(IStateMachine machine) => ((EtcdStateMachine)machine).StateDigest();

    public override long SpeculationMismatches(IStateMachine machine) => ((EtcdStateMachine)machine).SpeculationMismatches;

    private static string? Text(KeyValue? kv) => kv is null ? null : Encoding.UTF8.GetString(kv.Value);
}
