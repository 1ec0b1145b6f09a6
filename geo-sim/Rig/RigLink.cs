namespace CurpStore.Rig;

/// <summary>One proxy of the rig: connections from <paramref name="From"/> to <paramref name="To"/>'s
/// <paramref name="Port"/>.</summary>
public sealed record RigLink(RigNode From, RigNode To, int Port, DelayProxy Proxy);
