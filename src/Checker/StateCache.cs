using System.Numerics;

namespace CurpStore.Checker;

/// <summary>
/// Set of already-visited search configurations, each an opaque sequence of 64-bit words
/// (encoded model state + encoded set of linearized operations).
/// </summary>
/// <remarks>
/// Keys live back to back in one growing <c>ulong</c> arena and the table is open addressing over
/// entry indices, so a million states cost a few large arrays rather than a million small objects
/// for the garbage collector to trace. The cache is reused across partitions; <see cref="Reset"/>
/// drops oversized arrays so one hot key does not make every later tiny key pay for clearing them.
/// </remarks>
internal sealed class StateCache
{
    private const int InitialSlots = 1024;
    private const int InitialArena = 4096;

    private ulong[] _arena = new ulong[InitialArena];
    private int _arenaLength;
    private int[] _entryOffset = new int[InitialSlots / 2];
    private int[] _entryLength = new int[InitialSlots / 2];
    private ulong[] _entryHash = new ulong[InitialSlots / 2];
    private int[] _slots = new int[InitialSlots]; // entry index + 1; 0 = empty
    private int _count;

    /// <summary>Number of distinct keys stored since the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Forgets every key, shrinking storage that a previous large partition grew.</summary>
    public void Reset()
    {
        if (_slots.Length > InitialSlots)
        {
            _slots = new int[InitialSlots];
            _entryOffset = new int[InitialSlots / 2];
            _entryLength = new int[InitialSlots / 2];
            _entryHash = new ulong[InitialSlots / 2];
        }
        else
        {
            Array.Clear(_slots);
        }

        if (_arena.Length > InitialArena * 16)
        {
            _arena = new ulong[InitialArena];
        }

        _arenaLength = 0;
        _count = 0;
    }

    /// <summary>Adds <paramref name="key"/>; returns false if an equal key was already present.</summary>
    public bool TryAdd(ReadOnlySpan<ulong> key)
    {
        ulong hash = Hash(key);
        int mask = _slots.Length - 1;
        int slot = (int)(hash >> 32) & mask;
        while (true)
        {
            int entry = _slots[slot] - 1;
            if (entry < 0)
            {
                break;
            }

            if (_entryHash[entry] == hash && _entryLength[entry] == key.Length
                && key.SequenceEqual(_arena.AsSpan(_entryOffset[entry], key.Length)))
            {
                return false;
            }

            slot = (slot + 1) & mask;
        }

        if (_arenaLength + key.Length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + key.Length));
        }

        key.CopyTo(_arena.AsSpan(_arenaLength));
        if (_count == _entryOffset.Length)
        {
            int grown = _count * 2;
            Array.Resize(ref _entryOffset, grown);
            Array.Resize(ref _entryLength, grown);
            Array.Resize(ref _entryHash, grown);
        }

        _entryOffset[_count] = _arenaLength;
        _entryLength[_count] = key.Length;
        _entryHash[_count] = hash;
        _arenaLength += key.Length;
        _slots[slot] = ++_count;

        // Keep the load factor at or below one half so probe chains stay short.
        if (_count * 2 > _slots.Length)
        {
            Rehash(_slots.Length * 2);
        }

        return true;
    }

    private void Rehash(int size)
    {
        var slots = new int[size];
        int mask = size - 1;
        for (int entry = 0; entry < _count; entry++)
        {
            int slot = (int)(_entryHash[entry] >> 32) & mask;
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = entry + 1;
        }

        _slots = slots;
    }

    private static ulong Hash(ReadOnlySpan<ulong> key)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)key.Length;
        foreach (ulong word in key)
        {
            h = BitOperations.RotateLeft(h ^ (word * 0xC2B2AE3D27D4EB4FUL), 31) * 0x9E3779B97F4A7C15UL;
        }

        // Final avalanche (MurmurHash3 fmix64) so both halves of the hash are usable as slot indices.
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }
}
