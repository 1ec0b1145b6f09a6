using CurpStore.Curp;

namespace CurpStore.Wire;

/// <summary>
/// A snapshot image that a member's storage wrote to a file: the core keeps this handle instead of the image, so the
/// image is not held in memory between snapshots, and a restart whose state machine already holds the snapshot's index
/// never reads it. Sending it to a follower streams the file's bytes as they are (no decode and re-encode).
/// </summary>
public sealed class SnapshotFile(string path, long lengthBytes, ulong index, ICommandCodec commands) : IDeferredStateSnapshot
{
    public string Path { get; } = path;

    public long LengthBytes { get; } = lengthBytes;

    public ulong Index { get; } = index;

    public IStateSnapshot Load() => commands.DecodeSnapshot(ReadAll());

    /// <summary>The file's bytes in pieces of at most <paramref name="chunkBytes"/>, each with its offset.</summary>
    public IEnumerable<(long Offset, byte[] Bytes)> ReadChunks(int chunkBytes)
    {
        using var file = Open();
        var offset = 0L;
        do
        {
            var chunk = new byte[(int)Math.Min(chunkBytes, LengthBytes - offset)];
            file.ReadExactly(chunk);
            yield return (offset, chunk);
            offset += chunk.Length;
        }
        while (offset < LengthBytes);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the file when it is missing or its length is not the
    /// expected one.</summary>
    public void Validate() => Open().Dispose();

    private byte[] ReadAll()
    {
        using var file = Open();
        var bytes = new byte[LengthBytes];
        file.ReadExactly(bytes);
        return bytes;
    }

    private FileStream Open()
    {
        if (!File.Exists(Path))
        {
            throw new InvalidDataException($"snapshot file {Path} is missing");
        }
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        if (file.Length != LengthBytes)
        {
            file.Dispose();
            throw new InvalidDataException($"snapshot file {Path} holds {file.Length} bytes, {LengthBytes} expected");
        }
        return file;
    }
}
