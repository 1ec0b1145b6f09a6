namespace CurpStore.Checker;

/// <summary>
/// The single-key operations a client history is made of. Multi-key transactions are not modelled:
/// keeping every operation on one key is what lets the checker split a history per key
/// (P-compositionality) and stay tractable on large runs.
/// </summary>
public enum OperationKind
{
    /// <summary>Unconditional write of <see cref="HistoryOperation.Value"/>.</summary>
    Put,

    /// <summary>Read of the current value and its mod revision.</summary>
    Get,

    /// <summary>Delete; <see cref="HistoryOperation.Succeeded"/> says whether a key was actually removed.</summary>
    Delete,

    /// <summary>Compare-and-swap on the value (an etcd Txn with one value compare and one put).</summary>
    CompareAndSwap,
}

/// <summary>
/// One client operation as the client saw it: when it was sent, when (if ever) the answer came back,
/// and what the answer said. The checker never trusts server-side logs, only these observations,
/// so a bug anywhere between the client library and the state machine shows up here.
/// </summary>
/// <param name="Id">Identifier used only to name operations in violation reports.</param>
/// <param name="Client">Client (session) that issued the operation; informational.</param>
/// <param name="Key">Key the operation touched; the history is partitioned by it.</param>
/// <param name="Kind">What the operation was.</param>
/// <param name="Value">Put value, or the new value of a compare-and-swap.</param>
/// <param name="Expected">Compare-and-swap: value the key must hold for the swap; <c>null</c> = key must be absent.</param>
/// <param name="InvokeTime">When the request was sent (any monotonic unit shared by all clients).</param>
/// <param name="CompleteTime">
/// When the answer arrived; <c>null</c> if it never did (timeout, crash). Such an operation may or may not have
/// taken effect, so the checker lets it take effect at any point after <paramref name="InvokeTime"/>, or never.
/// </param>
/// <param name="Succeeded">Compare-and-swap: swapped. Delete: removed a key. Ignored for Put and Get.</param>
/// <param name="ReadValue">Get: value seen; <c>null</c> = key absent.</param>
/// <param name="ModRevision">
/// Get: mod revision of the value seen (0 when absent). Put, successful Delete, successful compare-and-swap:
/// the revision the write was answered with.
/// </param>
/// <param name="HeaderRevision">Store revision in the response header.</param>
public sealed record HistoryOperation(
    long Id,
    int Client,
    string Key,
    OperationKind Kind,
    string? Value,
    string? Expected,
    long InvokeTime,
    long? CompleteTime,
    bool Succeeded,
    string? ReadValue,
    long ModRevision,
    long HeaderRevision);

/// <summary>
/// How much of an answer must be consistent. Both exist because a store can apply effects in a
/// linearizable order and still hand out wrong revisions (for example when a fast-path write is
/// answered with a speculative revision that the ordered slow path later changes); separating the
/// two tells such a revision bug apart from a genuine ordering bug.
/// </summary>
public enum ConsistencyModel
{
    /// <summary>Values and the order of effects must be linearizable per key; revisions are ignored.</summary>
    EffectsOnly,

    /// <summary>
    /// Additionally, revisions must be those of a single global sequence: an answered write revision is final,
    /// reads report it, per-key revisions increase along the linearization, and across keys revisions are unique
    /// and respect real-time order (including response header revisions).
    /// </summary>
    Strict,
}

/// <summary>One reason a history is not linearizable.</summary>
/// <param name="Key">Key whose sub-history failed, or <c>"*"</c> for checks that span keys.</param>
/// <param name="Description">Human-readable explanation naming the operation ids involved.</param>
public sealed record Violation(string Key, string Description);

/// <summary>
/// Verdict for a whole history. A history only counts as passing when it has no violation <em>and</em>
/// every key was fully decided: a key whose search hit the effort bound is listed in
/// <see cref="UnknownKeys"/> so that an undecided run can never be mistaken for a clean one.
/// </summary>
/// <param name="Violations">Violations, per-key ones in ordinal key order first, then cross-key (<c>"*"</c>) ones.</param>
/// <param name="UnknownKeys">Keys (ordinal order) whose search exceeded the per-key state bound.</param>
/// <param name="StatesExplored">Total distinct search states over all keys; a cost measure for tuning histories.</param>
/// <param name="Partitions">Number of distinct keys in the history.</param>
public sealed record CheckResult(
    IReadOnlyList<Violation> Violations,
    IReadOnlyList<string> UnknownKeys,
    long StatesExplored,
    int Partitions)
{
    /// <summary>True only when nothing was violated and nothing was left undecided.</summary>
    public bool IsLinearizable => Violations.Count == 0 && UnknownKeys.Count == 0;
}
