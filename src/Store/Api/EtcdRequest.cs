namespace CurpStore.Store;

/// <summary>Any request the etcd state machine executes. One subclass per etcd request message; wrapped in an
/// <see cref="EtcdCommand"/> to travel through the log.</summary>
public abstract record EtcdRequest;
