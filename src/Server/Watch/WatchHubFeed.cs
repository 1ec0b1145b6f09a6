using CurpStore.Curp;
using CurpStore.Server.Hosting;
using CurpStore.Store;

namespace CurpStore.Server.Watch;

/// <summary>Feeds a <see cref="WatchHub"/> from the host's loop thread: the events of each applied command as the
/// store produced them, and a reset when a snapshot replaced the store.</summary>
public sealed class WatchHubFeed(WatchHub hub, EtcdStateMachine machine) : IAppliedStateObserver
{
    public void OnApplied(ICommand command, ulong index) => hub.Publish(machine.Revision, machine.CompactedRevision, machine.LastAppliedEvents);

    public void OnRestored() => hub.Reset(machine.Revision, machine.CompactedRevision);
}
