namespace CurpStore.Client;

/// <summary>
/// An etcd transaction: if every <see cref="Compare"/> holds, the <see cref="Then"/> operations run, else the
/// <see cref="Else"/> operations, all in one revision. Built like clientv3's <c>Txn().If(...).Then(...).Else(...)</c>.
/// </summary>
public sealed class Txn
{
    private readonly List<Compare> compares = [];
    private readonly List<Op> success = [];
    private readonly List<Op> failure = [];

    /// <summary>The guards.</summary>
    public IReadOnlyList<Compare> Compares => compares;

    /// <summary>What runs when every guard holds.</summary>
    public IReadOnlyList<Op> Success => success;

    /// <summary>What runs otherwise.</summary>
    public IReadOnlyList<Op> Failure => failure;

    /// <summary>Adds guards.</summary>
    public Txn If(params Compare[] guards)
    {
        compares.AddRange(guards);
        return this;
    }

    /// <summary>Adds operations to the success branch.</summary>
    public Txn Then(params Op[] operations)
    {
        success.AddRange(operations);
        return this;
    }

    /// <summary>Adds operations to the failure branch.</summary>
    public Txn Else(params Op[] operations)
    {
        failure.AddRange(operations);
        return this;
    }

    internal Store.TxnRequest ToRequest() => new()
    {
        Compare = [.. compares.Select(c => c.ToStore())],
        Success = [.. success.Select(o => o.ToStore())],
        Failure = [.. failure.Select(o => o.ToStore())],
    };
}

/// <summary>One guard of a <see cref="Txn"/>: a field of a key compared with an operand. A missing key compares as
/// zero, except that a value compare on a missing key fails (etcd's rules).</summary>
public sealed class Compare
{
    private readonly Store.Compare compare;

    private Compare(Store.Compare compare) => this.compare = compare;

    /// <summary>Compares the key's value.</summary>
    public static Compare Value(string key, Store.CompareResult result, string value) => Value(Requests.Utf8(key), result, Requests.Utf8(value));

    /// <summary>Compares the key's value.</summary>
    public static Compare Value(byte[] key, Store.CompareResult result, byte[] value) =>
        new(new Store.Compare { Key = key, Result = result, Target = Store.CompareTarget.Value, Value = value });

    /// <summary>Compares the key's version (0: the key does not exist).</summary>
    public static Compare Version(string key, Store.CompareResult result, long version) =>
        new(new Store.Compare { Key = Requests.Utf8(key), Result = result, Target = Store.CompareTarget.Version, Version = version });

    /// <summary>Compares the key's create revision.</summary>
    public static Compare CreateRevision(string key, Store.CompareResult result, long revision) =>
        new(new Store.Compare { Key = Requests.Utf8(key), Result = result, Target = Store.CompareTarget.Create, CreateRevision = revision });

    /// <summary>Compares the key's mod revision.</summary>
    public static Compare ModRevision(string key, Store.CompareResult result, long revision) =>
        new(new Store.Compare { Key = Requests.Utf8(key), Result = result, Target = Store.CompareTarget.Mod, ModRevision = revision });

    /// <summary>Compares the key's lease.</summary>
    public static Compare Lease(string key, Store.CompareResult result, long lease) =>
        new(new Store.Compare { Key = Requests.Utf8(key), Result = result, Target = Store.CompareTarget.Lease, Lease = lease });

    internal Store.Compare ToStore() => compare;
}

/// <summary>One operation of a <see cref="Txn"/> (clientv3's <c>OpGet</c>, <c>OpPut</c>, <c>OpDelete</c>,
/// <c>OpTxn</c>).</summary>
public sealed class Op
{
    private readonly Store.RequestOp op;

    private Op(Store.RequestOp op) => this.op = op;

    /// <summary>A get.</summary>
    public static Op Get(string key, GetOptions? options = null) => new(Requests.Range(Requests.Utf8(key), options ?? new GetOptions()));

    /// <summary>A get.</summary>
    public static Op Get(byte[] key, GetOptions? options = null) => new(Requests.Range(key, options ?? new GetOptions()));

    /// <summary>A put.</summary>
    public static Op Put(string key, string value, PutOptions? options = null) => Put(Requests.Utf8(key), Requests.Utf8(value), options);

    /// <summary>A put.</summary>
    public static Op Put(byte[] key, byte[] value, PutOptions? options = null) => new(Requests.Put(key, value, options ?? new PutOptions()));

    /// <summary>A delete.</summary>
    public static Op Delete(string key, DeleteOptions? options = null) => new(Requests.Delete(Requests.Utf8(key), options ?? new DeleteOptions()));

    /// <summary>A delete.</summary>
    public static Op Delete(byte[] key, DeleteOptions? options = null) => new(Requests.Delete(key, options ?? new DeleteOptions()));

    /// <summary>A nested transaction.</summary>
    public static Op Nested(Txn txn) => new((txn ?? throw new ArgumentNullException(nameof(txn))).ToRequest());

    internal Store.RequestOp ToStore() => op;
}
