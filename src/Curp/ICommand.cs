namespace CurpStore.Curp;

/// <summary>
/// What the core needs to know of a client command: who sent it (for exactly-once), which keys it touches
/// (for conflict detection) and whether it only reads. The core knows nothing else of it.
/// </summary>
public interface ICommand
{
    ProposeId Id { get; }

    /// <summary>Every key or key range the command reads or writes. Two commands conflict when any ranges overlap
    /// and at least one of them writes.</summary>
    IReadOnlyList<KeyRange> KeyRanges { get; }

    bool IsReadOnly { get; }
}

/// <summary>The answer a command produced. Opaque to the core; kept in the session table for retries.</summary>
public interface ICommandResult
{
}

/// <summary>An opaque, immutable image of the state machine at one applied index.</summary>
public interface IStateSnapshot
{
}

/// <summary>An image kept outside memory (a host's snapshot file), loaded only when someone needs its content: a
/// restart whose state machine already holds that index never loads it.</summary>
public interface IDeferredStateSnapshot : IStateSnapshot
{
    /// <summary>The applied index the image reflects.</summary>
    ulong Index { get; }

    /// <summary>Reads the image.</summary>
    IStateSnapshot Load();
}

public static class CommandConflicts
{
    /// <summary>Two commands conflict when they share a key and at least one of them writes.</summary>
    public static bool Conflict(ICommand a, ICommand b)
    {
        if (a.IsReadOnly && b.IsReadOnly)
        {
            return false;
        }
        foreach (var left in a.KeyRanges)
        {
            foreach (var right in b.KeyRanges)
            {
                if (left.Overlaps(right))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
