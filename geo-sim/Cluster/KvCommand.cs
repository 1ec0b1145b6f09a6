using System.Text;
using CurpStore.Curp;

namespace CurpStore.GeoSim.Cluster;

public enum KvOperation
{
    Put,
    Get,
    Delete,
    CompareAndSwap,
}

/// <summary>A single-key command of the simulator's KV model (the etcd store replaces it in the server).</summary>
public sealed record KvCommand(ProposeId Id, KvOperation Operation, string Key, string? Value = null, string? Expected = null) : ICommand
{
    private readonly KeyRange[] keyRanges = [KeyRange.Single(Encoding.UTF8.GetBytes(Key))];

    public IReadOnlyList<KeyRange> KeyRanges => keyRanges;

    public bool IsReadOnly => Operation == KvOperation.Get;

    public override string ToString() => $"{Operation}({Key}) #{Id}";
}

/// <summary>What a KV command returned, with etcd's revision fields: <see cref="ModRevision"/> is the revision the write
/// was given (or the read value's mod revision); <see cref="HeaderRevision"/> the store's revision after the command.</summary>
public sealed record KvResult(bool Succeeded, string? Value, long ModRevision, long HeaderRevision) : ICommandResult;
