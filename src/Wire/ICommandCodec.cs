using CurpStore.Curp;

namespace CurpStore.Wire;

/// <summary>Turns the state machine's commands, results and snapshot images into bytes and back. The core treats them
/// as opaque; only the state machine knows their shape (etcd requests for CurpStore, a small KV model in tests).</summary>
public interface ICommandCodec
{
    byte[] EncodeCommand(ICommand command);

    /// <summary>Decodes a command; throws <see cref="FormatException"/> for bytes that are not one.</summary>
    ICommand DecodeCommand(ReadOnlySpan<byte> bytes);

    byte[] EncodeResult(ICommandResult result);

    ICommandResult DecodeResult(ReadOnlySpan<byte> bytes);

    byte[] EncodeSnapshot(IStateSnapshot snapshot);

    IStateSnapshot DecodeSnapshot(ReadOnlySpan<byte> bytes);
}
