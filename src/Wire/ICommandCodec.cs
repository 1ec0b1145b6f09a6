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

    /// <summary>Writes what <see cref="EncodeSnapshot"/> returns to <paramref name="destination"/> as it goes: an image
    /// holds the whole store, and a member writes one to its snapshot file every --snapshot-count entries, so a copy of
    /// it in one array (then another, exactly sized) took the size of the store twice on the large object heap.</summary>
    void WriteSnapshot(IStateSnapshot snapshot, Stream destination);

    IStateSnapshot DecodeSnapshot(ReadOnlySpan<byte> bytes);
}
