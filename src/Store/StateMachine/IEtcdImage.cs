using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// What an image of the applied state is made of, in the order the snapshot format writes it: the records in revision
/// order (their count first) and the meta space in ordinal name order.
/// </summary>
public interface IEtcdImage : IStateSnapshot
{
    /// <summary>How many records <see cref="Records"/> yields.</summary>
    int RecordCount { get; }

    /// <summary>Every record, in revision order.</summary>
    IEnumerable<KvRecord> Records { get; }

    /// <summary>The meta space, in ordinal name order.</summary>
    IReadOnlyCollection<KeyValuePair<string, byte[]>> Meta { get; }
}
