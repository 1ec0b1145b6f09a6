using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace CurpStore.Rpc.Tests;

/// <summary>
/// The HPACK decoder against RFC 7541's examples, and the header-block rewriter that lets URL-valued :authority
/// headers (etcd clients up to 3.5.0, etcdctl 3.4 endpoint commands) through Kestrel.
/// </summary>
[TestClass]
public sealed class AuthorityRepairTests
{
    [TestMethod]
    public void HpackDecoder_RfcExamplesC3_WithoutHuffman()
    {
        var decoder = new HpackDecoder(4096);

        List<HpackField> fields = decoder.Decode(Hex("828684410f7777772e6578616d706c652e636f6d"), 65536);

        CollectionAssert.AreEqual(new[] { ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com" }, Text(fields));
    }

    [TestMethod]
    public void HpackDecoder_RfcExamplesC4_WithHuffmanAndTheDynamicTable()
    {
        var decoder = new HpackDecoder(4096);

        List<HpackField> first = decoder.Decode(Hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"), 65536);
        List<HpackField> second = decoder.Decode(Hex("828684be5886a8eb10649cbf"), 65536);
        List<HpackField> third = decoder.Decode(Hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"), 65536);

        CollectionAssert.AreEqual(new[] { ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com" }, Text(first));
        CollectionAssert.AreEqual(new[] { ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache" }, Text(second));
        CollectionAssert.AreEqual(new[] { ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value" }, Text(third));
    }

    [TestMethod]
    public void HpackDecoder_RejectsMalformedBlocks()
    {
        var decoder = new HpackDecoder(4096);

        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("80"), 65536)); // index 0
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("ff00"), 65536)); // beyond the tables
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("410f7777"), 65536)); // truncated string
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("3fe21f"), 65536)); // table size update above the limit
    }

    [TestMethod]
    [DataRow("127.0.0.1:2379", "127.0.0.1:2379")]
    [DataRow("localhost", "localhost")]
    [DataRow("[::1]:2379", "[::1]:2379")]
    [DataRow("http://127.0.0.1:2379", "127.0.0.1:2379")]
    [DataRow("https://etcd.example:2379/", "etcd.example:2379")]
    [DataRow("unix://user@/tmp/sock", null)]
    [DataRow("has space", null)]
    public void RepairHost_KeepsValidHosts_AndTakesTheAuthorityOfUrls(string value, string? expected)
    {
        byte[]? repaired = Http2HeaderRewriter.RepairHost(Encoding.Latin1.GetBytes(value));

        Assert.AreEqual(expected, repaired is null ? null : Encoding.Latin1.GetString(repaired));
    }

    [TestMethod]
    public async Task Rewriter_RepairsUrlAuthority_AcrossDynamicTableReferences_AndLeavesOtherFramesAlone()
    {
        byte[] data = [0, 0, 0, 0, 2, 8, 1];
        byte[] input =
        [
            .. Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            .. Frame(type: 4, flags: 0, streamId: 0, []), // SETTINGS
            // Literal with incremental indexing, name = static :authority (1): enters the client's dynamic table.
            .. Frame(type: 1, flags: 0x4 | 0x8 | 0x20, streamId: 1, [3, .. new byte[5], 0x83, 0x86, 0x44, .. Str("/etcdserverpb.Maintenance/Status"), 0x41, .. Str("http://127.0.0.1:2379"), 0, 0, 0]),
            .. Frame(type: 0, flags: 1, streamId: 1, data), // DATA, END_STREAM
            // The next request refers to the :authority entry by its dynamic index (62) and ends the stream on HEADERS.
            .. Frame(type: 1, flags: 0x4 | 0x1, streamId: 3, [0x83, 0x86, 0xbe, 0x04, .. Str("/etcdserverpb.KV/Range")]),
        ];

        (List<(byte Type, byte Flags, int StreamId, byte[] Payload)> frames, List<List<HpackField>> blocks) = await RewriteAsync(input, chunkSize: 1);

        CollectionAssert.AreEqual(new byte[] { 4, 1, 0, 1 }, frames.Select(f => f.Type).ToArray());
        CollectionAssert.AreEqual(data, frames[2].Payload, "DATA passes through unchanged");
        Assert.AreEqual(0x4, frames[1].Flags, "padding and priority are dropped, END_HEADERS kept");
        Assert.AreEqual(0x5, frames[3].Flags, "END_STREAM is kept");
        CollectionAssert.Contains(Text(blocks[0]), ":authority: 127.0.0.1:2379");
        CollectionAssert.Contains(Text(blocks[0]), ":path: /etcdserverpb.Maintenance/Status");
        CollectionAssert.Contains(Text(blocks[1]), ":authority: 127.0.0.1:2379");
        CollectionAssert.Contains(Text(blocks[1]), ":path: /etcdserverpb.KV/Range");
    }

    [TestMethod]
    public async Task Rewriter_JoinsContinuations_AndSplitsLargeBlocksAtTheFrameSize()
    {
        string big = new('v', 40_000);
        byte[] block = [0x83, 0x86, 0x44, .. Str("/a/b"), 0x40, .. Str("x-big"), .. Str(big)];
        byte[] input =
        [
            .. Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            .. Frame(type: 1, flags: 0, streamId: 1, block[..12_000]),
            .. Frame(type: 9, flags: 0, streamId: 1, block[12_000..24_000]),
            .. Frame(type: 9, flags: 0, streamId: 1, block[24_000..36_000]),
            .. Frame(type: 9, flags: 0x4, streamId: 1, block[36_000..]),
        ];

        (List<(byte Type, byte Flags, int StreamId, byte[] Payload)> frames, List<List<HpackField>> blocks) = await RewriteAsync(input, chunkSize: 4096);

        CollectionAssert.AreEqual(new byte[] { 1, 9, 9 }, frames.Select(f => f.Type).ToArray());
        Assert.IsTrue(frames.All(f => f.Payload.Length <= 16384));
        Assert.AreEqual(0x4, frames[^1].Flags);
        CollectionAssert.Contains(Text(blocks[0]), "x-big: " + big);
    }

    [TestMethod]
    public async Task Rewriter_PassesNonHttp2BytesThroughUntouched()
    {
        byte[] input = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var output = new Pipe();
        var rewriter = new Http2HeaderRewriter(4096, 16384, 65536);

        SequencePosition consumed = rewriter.Process(new ReadOnlySequence<byte>(input), output.Writer);
        await output.Writer.CompleteAsync();
        ReadResult read = await output.Reader.ReadAsync();

        Assert.AreEqual(input.Length, new ReadOnlySequence<byte>(input).Slice(0, consumed).Length);
        CollectionAssert.AreEqual(input, read.Buffer.ToArray());
    }

    private static async Task<(List<(byte Type, byte Flags, int StreamId, byte[] Payload)> Frames, List<List<HpackField>> Blocks)> RewriteAsync(byte[] input, int chunkSize)
    {
        var source = new Pipe();
        var sink = new Pipe();
        var rewriter = new Http2HeaderRewriter(4096, 16384, 1024 * 1024);
        for (int offset = 0; offset < input.Length; offset += chunkSize)
        {
            await source.Writer.WriteAsync(input.AsMemory(offset, Math.Min(chunkSize, input.Length - offset)));
            ReadResult read = await source.Reader.ReadAsync();
            source.Reader.AdvanceTo(rewriter.Process(read.Buffer, sink.Writer), read.Buffer.End);
        }

        await sink.Writer.CompleteAsync();
        byte[] output = (await ReadAllAsync(sink.Reader)).ToArray();
        Assert.IsTrue(output.AsSpan().StartsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8));
        var frames = new List<(byte, byte, int, byte[])>();
        var blocks = new List<List<HpackField>>();
        var decoder = new HpackDecoder(0); // the rewriter emits plain literals: no dynamic table needed downstream
        var pending = new List<byte>();
        for (int offset = 24; offset < output.Length;)
        {
            int length = (output[offset] << 16) | (output[offset + 1] << 8) | output[offset + 2];
            byte type = output[offset + 3];
            byte flags = output[offset + 4];
            int streamId = (int)BinaryPrimitives.ReadUInt32BigEndian(output.AsSpan(offset + 5));
            byte[] payload = output.AsSpan(offset + 9, length).ToArray();
            frames.Add((type, flags, streamId, payload));
            if (type is 1 or 9)
            {
                pending.AddRange(payload);
                if ((flags & 0x4) != 0)
                {
                    blocks.Add(decoder.Decode(pending.ToArray(), int.MaxValue));
                    pending.Clear();
                }
            }

            offset += 9 + length;
        }

        return (frames, blocks);
    }

    private static async Task<ReadOnlySequence<byte>> ReadAllAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult read = await reader.ReadAsync();
            if (read.IsCompleted)
            {
                return read.Buffer;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        byte[] frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>An HPACK string literal without Huffman coding.</summary>
    private static byte[] Str(string value)
    {
        var output = new ArrayBufferWriter<byte>();
        int length = value.Length;
        if (length < 127)
        {
            output.Write([(byte)length]);
        }
        else
        {
            output.Write([(byte)127]);
            length -= 127;
            while (length >= 128)
            {
                output.Write([(byte)((length & 0x7F) | 0x80)]);
                length >>= 7;
            }

            output.Write([(byte)length]);
        }

        output.Write(Encoding.Latin1.GetBytes(value));
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static string[] Text(List<HpackField> fields) =>
        fields.Select(f => $"{Encoding.Latin1.GetString(f.Name)}: {Encoding.Latin1.GetString(f.Value)}").ToArray();
}
