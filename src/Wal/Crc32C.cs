using System.Buffers.Binary;
using System.Numerics;

namespace CurpStore.Wal;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every WAL record. The package feed has no <c>System.IO.Hashing</c>, so this
/// uses <see cref="BitOperations.Crc32C(uint, ulong)"/>, which runs the SSE4.2 <c>crc32</c> instruction on x64, the
/// ARMv8 CRC32C instruction on arm64, and a table-driven software fallback elsewhere. CRC-32C rather than zlib's CRC-32
/// because it is the one with hardware support and the one etcd, ext4 and iSCSI use for the same job.
/// </summary>
/// <remarks>Thread-safe: pure functions.</remarks>
public static class Crc32C
{
    /// <summary>Returns the CRC-32C of <paramref name="data"/> (initial value and final XOR <c>0xFFFFFFFF</c>, as
    /// in RFC 3720), so <c>Compute("123456789"u8) == 0xE3069283</c>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running CRC state over <paramref name="data"/>. The state is the complement of a finished
    /// CRC: start with <c>~0u</c> and complement the final state.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        // Eight bytes per instruction; read little-endian because the instruction consumes bytes in memory order.
        while (data.Length >= sizeof(ulong))
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        if (data.Length >= sizeof(uint))
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[sizeof(uint)..];
        }
        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }
        return state;
    }
}
