namespace CurpStore.Store;

/// <summary>
/// Chooses the id of a lease granted with id 0. etcd picks it on the proposing member before the request enters the
/// log; here the request is in the log as sent, so the id is derived from the log index (SplitMix64, positive,
/// skipping ids in use): every member, and the leader's speculation, choose the same id for the same entry.
/// </summary>
internal static class LeaseIds
{
    public static long Choose(ulong index, IMvccState state)
    {
        var seed = index;
        while (true)
        {
            seed = Mix(seed);
            var id = (long)(seed & long.MaxValue);
            if (id != 0 && state.FindLease(id) is null)
            {
                return id;
            }
        }
    }

    private static ulong Mix(ulong value)
    {
        var z = value + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
