using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// Speculation: the leader executes each log entry ahead of commit on <see cref="SpeculativeState"/>, which sits on the
/// applied state and keeps its own revision counter, so the answer carries the revision the entry will get when
/// applied. Reads never see the overlay. When an entry is applied the overlay forgets what that entry wrote; if the
/// applied sequence ever departs from the speculated one (a skipped or unexpected entry, a different revision) the
/// overlay is rebuilt from the remaining speculated entries, so it can never drift from the applied state.
/// </summary>
public sealed partial class EtcdStateMachine
{
    private readonly SpeculativeState overlay;
    private readonly SortedDictionary<ulong, SpeculatedEntry> speculated = [];
    private ulong lastSpeculatedIndex;

    /// <summary>Speculated entries not applied yet.</summary>
    public int SpeculatedCount => speculated.Count;

    /// <summary>How often the overlay had to be rebuilt because the applied sequence departed from the speculated one.</summary>
    public long SpeculationRebuilds { get; private set; }

    /// <summary>Applied answers that differ from the speculated answer for the same index (only counted with
    /// <see cref="EtcdStoreOptions.VerifySpeculation"/>; must stay zero).</summary>
    public long SpeculationMismatches { get; private set; }

    /// <summary>The revision the overlay has reached (the applied revision when nothing is speculated).</summary>
    public long SpeculativeRevision => overlay.Revision;

    public ICommandResult Speculate(ICommand command, ulong index)
    {
        var request = RequestOf(command);
        ThrowIfApplied(index);
        if (speculated.Count > 0 && index <= lastSpeculatedIndex)
        {
            // The log was rewritten from this index on without a discard: forget the overwritten suffix.
            foreach (var stale in speculated.Keys.Where(i => i >= index).ToList())
            {
                speculated.Remove(stale);
            }
            Rebuild();
        }
        if (speculated.Count >= Options.MaxSpeculatedEntries)
        {
            throw new InvalidOperationException($"more than {Options.MaxSpeculatedEntries} speculated entries are waiting to be applied");
        }
        return SpeculateEntry(command, request, index, original: null);
    }

    public void DiscardSpeculation()
    {
        speculated.Clear();
        overlay.Clear();
        lastSpeculatedIndex = 0;
    }

    private ICommandResult SpeculateEntry(ICommand command, EtcdRequest request, ulong index, ICommandResult? original)
    {
        overlay.CurrentIndex = index;
        var result = CommandExecutor.Execute(overlay, request, index, Options).Result;
        var kept = Options.VerifySpeculation ? original ?? result : null;
        speculated[index] = new SpeculatedEntry(command, overlay.Revision, kept);
        lastSpeculatedIndex = Math.Max(lastSpeculatedIndex, index);
        return result;
    }

    /// <summary>After applying <paramref name="index"/>: drop it from the overlay if it was the next speculated entry
    /// and ended at the same revision; otherwise rebuild the overlay from the entries still waiting.</summary>
    private void ReconcileSpeculation(ICommand command, ulong index, ICommandResult result)
    {
        if (speculated.Count == 0)
        {
            overlay.Clear();
            return;
        }
        var (firstIndex, first) = speculated.First();
        var consistent = firstIndex == index
            && (ReferenceEquals(first.Command, command) || first.Command.Id == command.Id)
            && first.RevisionAfter == applied.Revision;
        if (firstIndex == index && first.Result is not null && !EtcdResultText.Equal(first.Result, result))
        {
            SpeculationMismatches++;
            consistent = false;
        }
        foreach (var done in speculated.Keys.TakeWhile(i => i <= index).ToList())
        {
            speculated.Remove(done);
        }
        if (!consistent)
        {
            Rebuild();
        }
        else if (speculated.Count == 0)
        {
            overlay.Clear();
        }
        else
        {
            overlay.DropAppliedThrough(index);
        }
    }

    private void Rebuild()
    {
        SpeculationRebuilds++;
        overlay.Clear();
        var waiting = speculated.ToList();
        speculated.Clear();
        lastSpeculatedIndex = 0;
        foreach (var (index, entry) in waiting)
        {
            SpeculateEntry(entry.Command, RequestOf(entry.Command), index, entry.Result);
        }
    }

    /// <summary>A speculated entry: its command (to re-speculate), the overlay revision after it (to check the applied
    /// one) and, when verifying, the answer it gave.</summary>
    private sealed record SpeculatedEntry(ICommand Command, long RevisionAfter, ICommandResult? Result);
}
