using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// The etcd v3 state machine under the CURP core: MVCC key-value store with etcd 3.5's revisions, ranges, txns,
/// compaction and leases, over an <see cref="IKvEngine"/>. Deterministic: answers depend only on the engine content and
/// the commands applied, never on time or randomness, so every member computes the same answers. Single-threaded.
/// </summary>
/// <remarks>Split by concern: speculation (the leader's overlay), leases (the leader's expiry clock) and watch
/// (events of applied commands and history) live in partial files.</remarks>
public sealed partial class EtcdStateMachine : IStateMachine
{
    private readonly AppliedState applied;
    private IReadOnlyList<WatchEvent> lastAppliedEvents = [];

    /// <summary>Opens the state machine on an engine, rebuilding the key index and lease table from its content
    /// (a fresh engine is an empty store at revision 1).</summary>
    public EtcdStateMachine(IKvEngine engine, EtcdStoreOptions? options = null)
    {
        Options = options ?? new EtcdStoreOptions();
        Options.Validate();
        applied = new AppliedState(engine);
        overlay = new SpeculativeState(applied);
    }

    public EtcdStoreOptions Options { get; }

    /// <summary>The applied store revision.</summary>
    public long Revision => applied.Revision;

    /// <summary>The applied compacted revision; -1 when never compacted (etcd's convention).</summary>
    public long CompactedRevision => applied.CompactedRevision;

    /// <summary>The applied auth store. Safe to read from any thread: an immutable value, replaced on every change.</summary>
    public AuthState Auth => applied.Auth;

    /// <summary>The answer of the last applied command (the host's observers read it right after the apply).</summary>
    public ICommandResult? LastAppliedResult { get; private set; }

    /// <summary>The last log index applied (etcd's consistent index). After a restart the host replays the log from the
    /// next index; <see cref="Apply"/> refuses indexes at or below it.</summary>
    public ulong AppliedIndex => applied.ConsistentIndex;

    public ICommandResult Apply(ICommand command, ulong index)
    {
        var request = RequestOf(command);
        ThrowIfApplied(index);
        var execution = CommandExecutor.Execute(applied, request, index, Options);
        applied.Commit(index);
        lastAppliedEvents = WatchEvents.From(applied, execution.Changes);
        LastAppliedResult = execution.Result;
        ReconcileSpeculation(command, index, execution.Result);
        return execution.Result;
    }

    public ICommandResult Read(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!command.IsReadOnly)
        {
            throw new ArgumentException($"{command} writes; it must go through the log", nameof(command));
        }
        return Read(RequestOf(command));
    }

    /// <summary>Answers a read-only request (a range or a txn that writes in no branch) from the applied state.</summary>
    public ICommandResult Read(EtcdRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var readOnly = request is RangeRequest || (request is TxnRequest txn && TxnExecutor.IsReadOnly(txn));
        if (!readOnly)
        {
            throw new ArgumentException($"{request.GetType().Name} writes; it must go through the log", nameof(request));
        }
        return CommandExecutor.Execute(applied, request, 0, Options).Result;
    }

    /// <summary>Checkpoints the engine (a persistent engine then recovers exactly this point, so a restart replays only the
    /// log after the snapshot) and captures the image.</summary>
    public IStateSnapshot TakeSnapshot()
    {
        applied.Engine.Checkpoint();
        return EtcdSnapshot.Capture(applied.Engine);
    }

    /// <summary>Like <see cref="TakeSnapshot"/>, but the image is the engine itself, read as it is written out: no copy of
    /// the store. Write it out before anything else is applied (see <see cref="EtcdLiveImage"/>).</summary>
    public EtcdLiveImage TakeLiveSnapshot()
    {
        applied.Engine.Checkpoint();
        return new EtcdLiveImage(this, applied.Engine);
    }

    /// <summary>How many times the state was replaced by a snapshot (a live image taken before is then stale).</summary>
    internal long Restores { get; private set; }

    /// <summary>Replaces the state with the image. A deferred image (a snapshot file) at the very index the engine
    /// already holds is not even read: that is a restart of a persistent engine checkpointed at the snapshot.</summary>
    public void RestoreSnapshot(IStateSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Restores++;
        if (snapshot is IDeferredStateSnapshot deferred)
        {
            if (deferred.Index == applied.ConsistentIndex)
            {
                DiscardSpeculation();
                leaseClock.Clear();
                lastAppliedEvents = [];
                return;
            }
            snapshot = deferred.Load();
        }
        var image = snapshot as EtcdSnapshot ?? throw new ArgumentException($"expected an {nameof(EtcdSnapshot)}", nameof(snapshot));
        applied.Engine.Commit(image.ToBatch());
        applied.Load();
        DiscardSpeculation();
        leaseClock.Clear();
        lastAppliedEvents = [];
        LastAppliedResult = null;
    }

    /// <summary>A digest of the engine content (records and meta), equal on every member at the same applied index:
    /// what the simulator's replica-equality checker compares.</summary>
    public ulong StateDigest()
    {
        var hash = 14695981039346656037UL;
        void Mix(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                hash = (hash ^ b) * 1099511628211UL;
            }
            hash = (hash ^ 0xff) * 1099511628211UL;
        }
        void MixNumber(long value) => Mix(BitConverter.GetBytes(value));
        foreach (var record in applied.Engine.ScanRecords(Store.Revision.Zero))
        {
            MixNumber(record.Revision.Main);
            MixNumber(record.Revision.Sub);
            MixNumber(record.IsTombstone ? 1 : 0);
            Mix(record.Kv.Key);
            Mix(record.Kv.Value);
            MixNumber(record.Kv.CreateRevision);
            MixNumber(record.Kv.ModRevision);
            MixNumber(record.Kv.Version);
            MixNumber(record.Kv.Lease);
        }
        foreach (var (name, value) in applied.Engine.ScanMeta(""))
        {
            Mix(System.Text.Encoding.UTF8.GetBytes(name));
            Mix(value);
        }
        return hash;
    }

    private static EtcdRequest RequestOf(ICommand command) =>
        (command as EtcdCommand)?.Request ?? throw new ArgumentException($"expected an {nameof(EtcdCommand)}, got {command?.GetType().Name ?? "null"}", nameof(command));

    private void ThrowIfApplied(ulong index)
    {
        if (index <= applied.ConsistentIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index {index} is already applied (applied index {applied.ConsistentIndex})");
        }
    }
}
