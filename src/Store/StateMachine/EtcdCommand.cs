using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// An etcd request as a CURP command: the core sees its propose id, its key ranges (from
/// <see cref="CommandKeyRanges"/>) and whether it only reads. Ranges and txns that write in no branch are read-only
/// (etcd serves those through ReadIndex too).
/// </summary>
public sealed class EtcdCommand : ICommand
{
    public EtcdCommand(ProposeId id, EtcdRequest request)
    {
        Id = id;
        Request = request ?? throw new ArgumentNullException(nameof(request));
        KeyRanges = CommandKeyRanges.Of(request);
        IsReadOnly = request is RangeRequest || (request is TxnRequest txn && TxnExecutor.IsReadOnly(txn));
    }

    public ProposeId Id { get; }

    public EtcdRequest Request { get; }

    public IReadOnlyList<KeyRange> KeyRanges { get; }

    public bool IsReadOnly { get; }

    public override string ToString() => $"{Request.GetType().Name} #{Id}";
}
