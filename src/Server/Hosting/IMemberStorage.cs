using CurpStore.Curp;

namespace CurpStore.Server.Hosting;

/// <summary>Where a member keeps what the core asks it to persist: the WAL-backed store in production, a memory-only
/// one in tests. Called from the host's loop thread only.</summary>
public interface IMemberStorage
{
    /// <summary>Everything persisted so far, to restart the core from.</summary>
    PersistentState Load();

    /// <summary>Makes the batch durable (fsync where the batch needs it) before it returns: the host sends the batch's
    /// messages only afterwards, except a leader's appends, which go out first.</summary>
    void Persist(Ready ready);

    /// <summary>After <see cref="Persist"/> of a batch with <paramref name="snapshot"/>: a handle to the image as stored
    /// (a file) that the core can keep instead of the image itself; null keeps the image in memory.</summary>
    IStateSnapshot? PersistedImage(Snapshot snapshot) => null;
}

/// <summary>Keeps the persisted state in memory: survives a host restart inside one process, not a process crash.
/// The loop thread persists while tests or admin code may load, hence the lock.</summary>
public sealed class InMemoryMemberStorage : IMemberStorage
{
    private readonly Lock gate = new();
    private readonly MemoryStorage storage = new();

    public PersistentState Load()
    {
        lock (gate)
        {
            return storage.Load();
        }
    }

    public void Persist(Ready ready)
    {
        lock (gate)
        {
            storage.Persist(ready);
        }
    }
}
