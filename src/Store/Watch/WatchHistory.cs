namespace CurpStore.Store;

/// <summary>
/// Past events read for a watch that starts in the past. <see cref="NextRevision"/> is where to continue;
/// <see cref="CompactRevision"/> is non-zero when the start was compacted away (etcd then cancels the watch and sends
/// the compact revision), in which case there are no events.
/// </summary>
public sealed record WatchHistory(IReadOnlyList<WatchEvent> Events, long NextRevision, long CompactRevision);
