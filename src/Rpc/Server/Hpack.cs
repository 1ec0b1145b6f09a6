using System.Buffers;

namespace CurpStore.Rpc;

/// <summary>A header field decoded from HPACK; names and values are raw octets.</summary>
internal readonly record struct HpackField(byte[] Name, byte[] Value, bool NeverIndexed);

/// <summary>A header block that is not valid HPACK.</summary>
internal sealed class HpackException(string message) : Exception(message);

/// <summary>
/// A complete HPACK decoder (RFC 7541): static and dynamic tables, size updates, Huffman strings. It keeps the
/// dynamic table of one connection's client-to-server direction, so it must see every header block of that
/// direction, in order.
/// </summary>
internal sealed class HpackDecoder
{
    private static readonly HuffmanTree Huffman = new();
    private static readonly (byte[] Name, byte[] Value)[] StaticTable = HpackTables.Static
        .Select(entry => (System.Text.Encoding.Latin1.GetBytes(entry.Name), System.Text.Encoding.Latin1.GetBytes(entry.Value)))
        .ToArray();
    private readonly List<(byte[] Name, byte[] Value)> _dynamic = []; // newest first
    private readonly int _maxTableSize;
    private int _tableSize;
    private int _tableCapacity;

    /// <summary>Creates a decoder for a peer that was told SETTINGS_HEADER_TABLE_SIZE = <paramref name="maxTableSize"/>.</summary>
    public HpackDecoder(int maxTableSize)
    {
        _maxTableSize = maxTableSize;
        _tableCapacity = maxTableSize;
    }

    /// <summary>Decodes one complete header block.</summary>
    /// <exception cref="HpackException">The block is malformed, refers to a missing entry, or decodes beyond <paramref name="maxDecodedSize"/>.</exception>
    public List<HpackField> Decode(ReadOnlySpan<byte> block, int maxDecodedSize)
    {
        var fields = new List<HpackField>();
        int decodedSize = 0;
        int position = 0;
        while (position < block.Length)
        {
            byte first = block[position];
            HpackField field;
            if ((first & 0x80) != 0)
            {
                int index = ReadInteger(block, ref position, 7);
                (byte[] name, byte[] value) = Lookup(index);
                field = new HpackField(name, value, false);
            }
            else if ((first & 0xC0) == 0x40)
            {
                field = ReadLiteral(block, ref position, 6, false);
                Insert(field.Name, field.Value);
            }
            else if ((first & 0xE0) == 0x20)
            {
                int size = ReadInteger(block, ref position, 5);
                if (size > _maxTableSize)
                {
                    throw new HpackException($"dynamic table size update {size} exceeds the limit {_maxTableSize}");
                }

                _tableCapacity = size;
                Evict(0);
                continue;
            }
            else
            {
                field = ReadLiteral(block, ref position, 4, (first & 0x10) != 0);
            }

            decodedSize += field.Name.Length + field.Value.Length + 32;
            if (decodedSize > maxDecodedSize)
            {
                throw new HpackException("the header block decodes beyond the size limit");
            }

            fields.Add(field);
        }

        return fields;
    }

    private HpackField ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits, bool neverIndexed)
    {
        int nameIndex = ReadInteger(block, ref position, prefixBits);
        byte[] name = nameIndex == 0 ? ReadString(block, ref position) : Lookup(nameIndex).Name;
        byte[] value = ReadString(block, ref position);
        return new HpackField(name, value, neverIndexed);
    }

    private (byte[] Name, byte[] Value) Lookup(int index)
    {
        if (index <= 0)
        {
            throw new HpackException("index 0 is not a header field");
        }

        if (index <= StaticTable.Length)
        {
            return StaticTable[index - 1];
        }

        int dynamicIndex = index - HpackTables.Static.Length - 1;
        return dynamicIndex < _dynamic.Count ? _dynamic[dynamicIndex] : throw new HpackException($"index {index} is beyond the tables");
    }

    private void Insert(byte[] name, byte[] value)
    {
        int size = name.Length + value.Length + 32;
        Evict(size);
        if (size <= _tableCapacity)
        {
            _dynamic.Insert(0, (name, value));
            _tableSize += size;
        }
    }

    /// <summary>Evicts the oldest entries until <paramref name="room"/> more octets fit.</summary>
    private void Evict(int room)
    {
        while (_dynamic.Count > 0 && _tableSize + room > _tableCapacity)
        {
            (byte[] name, byte[] value) = _dynamic[^1];
            _dynamic.RemoveAt(_dynamic.Count - 1);
            _tableSize -= name.Length + value.Length + 32;
        }
    }

    private static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        int mask = (1 << prefixBits) - 1;
        int value = block[position++] & mask;
        if (value < mask)
        {
            return value;
        }

        for (int shift = 0; ; shift += 7)
        {
            if (position >= block.Length || shift > 21)
            {
                throw new HpackException("truncated or oversized integer");
            }

            byte next = block[position++];
            value += (next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private static byte[] ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw new HpackException("truncated string");
        }

        bool huffman = (block[position] & 0x80) != 0;
        int length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException("truncated string");
        }

        ReadOnlySpan<byte> raw = block.Slice(position, length);
        position += length;
        return huffman ? Huffman.Decode(raw) : raw.ToArray();
    }

    /// <summary>The canonical Huffman code of appendix B as a binary tree, walked bit by bit.</summary>
    private sealed class HuffmanTree
    {
        private readonly List<int[]> _children = [[-1, -1]];
        private readonly List<int> _symbols = [-1];

        public HuffmanTree()
        {
            for (int symbol = 0; symbol < 256; symbol++)
            {
                uint code = HpackTables.HuffmanCodes[symbol];
                int length = HpackTables.HuffmanCodeLengths[symbol];
                int node = 0;
                for (int bit = length - 1; bit >= 0; bit--)
                {
                    int branch = (int)((code >> bit) & 1);
                    if (_children[node][branch] < 0)
                    {
                        _children[node][branch] = _children.Count;
                        _children.Add([-1, -1]);
                        _symbols.Add(-1);
                    }

                    node = _children[node][branch];
                }

                _symbols[node] = symbol;
            }
        }

        public byte[] Decode(ReadOnlySpan<byte> encoded)
        {
            var output = new List<byte>(encoded.Length * 8 / 5);
            int node = 0;
            int pendingBits = 0;
            bool pendingAllOnes = true;
            foreach (byte octet in encoded)
            {
                for (int bit = 7; bit >= 0; bit--)
                {
                    int branch = (octet >> bit) & 1;
                    node = _children[node][branch];
                    if (node < 0)
                    {
                        throw new HpackException("invalid Huffman code (EOS or unassigned)");
                    }

                    pendingBits++;
                    pendingAllOnes &= branch == 1;
                    if (_symbols[node] >= 0)
                    {
                        output.Add((byte)_symbols[node]);
                        node = 0;
                        pendingBits = 0;
                        pendingAllOnes = true;
                    }
                }
            }

            // Padding: fewer than 8 bits, all ones (a prefix of EOS).
            if (pendingBits > 7 || !pendingAllOnes)
            {
                throw new HpackException("invalid Huffman padding");
            }

            return output.ToArray();
        }
    }
}

/// <summary>
/// Encodes header fields as literals without indexing and without Huffman coding: the simplest valid HPACK, which
/// leaves the receiver's dynamic table untouched. Never-indexed fields (for example credentials) stay never-indexed.
/// </summary>
internal static class HpackLiteralEncoder
{
    public static void Write(ArrayBufferWriter<byte> output, IEnumerable<HpackField> fields)
    {
        foreach (HpackField field in fields)
        {
            WriteInteger(output, field.NeverIndexed ? (byte)0x10 : (byte)0x00, 4, 0); // new name
            WriteString(output, field.Name);
            WriteString(output, field.Value);
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> output, byte[] value)
    {
        WriteInteger(output, 0x00, 7, value.Length); // H = 0
        output.Write(value);
    }

    private static void WriteInteger(ArrayBufferWriter<byte> output, byte flags, int prefixBits, int value)
    {
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            output.Write([(byte)(flags | value)]);
            return;
        }

        output.Write([(byte)(flags | mask)]);
        value -= mask;
        while (value >= 0x80)
        {
            output.Write([(byte)((value & 0x7F) | 0x80)]);
            value >>= 7;
        }

        output.Write([(byte)value]);
    }
}
