namespace CurpStore.GeoSim;

/// <summary>Why <see cref="SimNetwork{TMessage}"/> did not deliver a message.</summary>
/// <remarks>
/// Counted separately so a run's report shows whether the protocol was stressed by loss, by
/// partitions or by crashes, and so a test can tell "dropped as configured" from "never sent".
/// </remarks>
public enum DropReason
{
    /// <summary>Random loss (<see cref="SimNetwork{TMessage}.LossProbability"/>).</summary>
    Lost,

    /// <summary>The directed link was blocked (partition) when the message was sent.</summary>
    Blocked,

    /// <summary>The link became blocked while the message was in flight.</summary>
    BlockedInFlight,

    /// <summary>The sender was down when it sent.</summary>
    SenderDown,

    /// <summary>The receiver was down when the message was sent.</summary>
    ReceiverDown,

    /// <summary>Sender or receiver went down (even if it came back) while the message was in flight.</summary>
    DownInFlight,
}
