namespace CurpStore.Checker.Tests;

/// <summary>
/// Terse construction of hand-written histories. Ids are assigned in call order starting at 1 so
/// tests can name the operation a violation must mention. Header revisions default to the highest
/// revision mentioned so far, which keeps the cross-key header check quiet unless a test sets one.
/// </summary>
public sealed class HistoryBuilder
{
    private readonly List<HistoryOperation> _ops = [];
    private long _highestRevision;

    public HistoryBuilder Put(string key, string value, long invoke, long? complete, long rev = 0, int client = 0, long? header = null) =>
        Add(key, OperationKind.Put, value, null, invoke, complete, true, null, rev, client, header);

    public HistoryBuilder Get(string key, string? read, long invoke, long? complete, long rev = 0, int client = 0, long? header = null) =>
        Add(key, OperationKind.Get, null, null, invoke, complete, true, read, rev, client, header);

    public HistoryBuilder Delete(string key, bool deleted, long invoke, long? complete, long rev = 0, int client = 0, long? header = null) =>
        Add(key, OperationKind.Delete, null, null, invoke, complete, deleted, null, rev, client, header);

    public HistoryBuilder Cas(string key, string? expected, string value, bool swapped, long invoke, long? complete, long rev = 0, int client = 0, long? header = null) =>
        Add(key, OperationKind.CompareAndSwap, value, expected, invoke, complete, swapped, null, rev, client, header);

    public IReadOnlyList<HistoryOperation> Build() => [.. _ops];

    private HistoryBuilder Add(
        string key, OperationKind kind, string? value, string? expected, long invoke, long? complete,
        bool succeeded, string? read, long rev, int client, long? header)
    {
        _highestRevision = Math.Max(_highestRevision, rev);
        _ops.Add(new HistoryOperation(
            _ops.Count + 1, client, key, kind, value, expected, invoke, complete, succeeded, read, rev,
            header ?? (complete is null ? 0 : _highestRevision)));
        return this;
    }
}
