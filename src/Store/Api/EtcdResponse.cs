using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>A successful answer. Every etcd response carries a header with the store revision; failures are
/// <see cref="EtcdError"/> instead.</summary>
public abstract record EtcdResponse : ICommandResult
{
    public ResponseHeader Header { get; init; } = new(0);
}
