using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CurpStore.Rpc;

/// <summary>
/// Lets requests whose <c>:authority</c> is not a valid host reach the server. etcd's Go client up to 3.5.0 and
/// etcdctl 3.4's <c>endpoint status</c>/<c>endpoint health</c> send the endpoint URL itself (for example
/// <c>http://127.0.0.1:2379</c>) as <c>:authority</c> (etcd issue 13192). grpc-go servers accept that; Kestrel resets
/// such streams with PROTOCOL_ERROR before any application code runs. So this connection middleware sits between the
/// socket (or TLS) and Kestrel's HTTP/2 parser, decodes each request header block (HPACK), replaces such an
/// <c>:authority</c>/<c>host</c> by the URL's host:port, and hands Kestrel the block re-encoded as plain literals.
/// Every other frame passes through unchanged; anything it cannot parse is passed through as received, so Kestrel
/// still answers protocol errors itself.
/// </summary>
internal static class AuthorityRepair
{
    /// <summary>Adds the middleware to an endpoint; add it after TLS so that it sees plaintext HTTP/2.</summary>
    public static void Use(ListenOptions listen, Http2Limits limits, long maxHeaderBytes)
    {
        listen.Use(next => async connection =>
        {
            IDuplexPipe transport = connection.Transport;
            var repaired = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
            var rewriter = new Http2HeaderRewriter(limits.HeaderTableSize, limits.MaxFrameSize, (int)Math.Min(maxHeaderBytes * 4, 1024 * 1024));
            Task pump = PumpAsync(transport.Input, repaired.Writer, rewriter);
            connection.Transport = new DuplexPipe(repaired.Reader, transport.Output);
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                connection.Transport = transport;
                transport.Input.CancelPendingRead();
                await repaired.Reader.CompleteAsync().ConfigureAwait(false);
                await pump.ConfigureAwait(false);
            }
        });
    }

    private static async Task PumpAsync(PipeReader input, PipeWriter output, Http2HeaderRewriter rewriter)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                ReadResult read = await input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = read.Buffer;
                SequencePosition consumed = rewriter.Process(buffer, output);
                input.AdvanceTo(consumed, buffer.End);
                FlushResult flush = await output.FlushAsync().ConfigureAwait(false);
                if (read.IsCompleted || read.IsCanceled || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
        }

        await output.CompleteAsync(failure).ConfigureAwait(false);
        await input.CompleteAsync().ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>The client-to-server HTTP/2 frame stream, with request header blocks repaired (see <see cref="AuthorityRepair"/>).</summary>
internal sealed class Http2HeaderRewriter(int headerTableSize, int maxFrameSize, int maxHeaderBlockSize)
{
    private const int FrameHeaderLength = 9;
    private const byte Headers = 0x1;
    private const byte Continuation = 0x9;
    private const byte EndStream = 0x1;
    private const byte EndHeaders = 0x4;
    private const byte Padded = 0x8;
    private const byte Priority = 0x20;

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly byte[] AuthorityName = ":authority"u8.ToArray();
    private static readonly byte[] HostName = "host"u8.ToArray();

    private readonly HpackDecoder _decoder = new(headerTableSize);
    private readonly ArrayBufferWriter<byte> _block = new();
    private readonly ArrayBufferWriter<byte> _rawFrames = new();
    private Mode _mode = Mode.Preface;
    private bool _inBlock;
    private int _blockStreamId;
    private bool _blockEndsStream;
    private bool _frameBuffered;

    private enum Mode
    {
        Preface,
        Frames,
        Passthrough,
    }

    /// <summary>Writes every complete unit of <paramref name="buffer"/> to <paramref name="output"/>; returns how far it consumed.</summary>
    public SequencePosition Process(ReadOnlySequence<byte> buffer, PipeWriter output)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (_mode == Mode.Preface)
        {
            if (!reader.IsNext(Preface.AsSpan(0, (int)Math.Min(reader.Remaining, Preface.Length))))
            {
                return PassThrough(ref reader, output); // not HTTP/2 prior knowledge: not ours to touch
            }

            if (reader.Remaining < Preface.Length)
            {
                return reader.Position;
            }

            output.Write(Preface);
            reader.Advance(Preface.Length);
            _mode = Mode.Frames;
        }

        if (_mode == Mode.Passthrough)
        {
            return PassThrough(ref reader, output);
        }

        Span<byte> header = stackalloc byte[FrameHeaderLength];
        while (reader.TryCopyTo(header))
        {
            int length = (header[0] << 16) | (header[1] << 8) | header[2];
            byte type = header[3];
            byte flags = header[4];
            int streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFFFFFF);
            if (length > maxFrameSize)
            {
                return PassThrough(ref reader, output); // Kestrel answers FRAME_SIZE_ERROR
            }

            if (reader.Remaining < FrameHeaderLength + length)
            {
                break;
            }

            ReadOnlySequence<byte> frame = reader.UnreadSequence.Slice(0, FrameHeaderLength + length);
            _frameBuffered = false;
            bool handled = type switch
            {
                Headers when !_inBlock => StartBlock(frame, flags, streamId, output),
                Continuation when _inBlock && streamId == _blockStreamId => ContinueBlock(frame, flags, output),
                Headers or Continuation => false,
                _ when _inBlock => false, // another frame inside a header block: a protocol error for Kestrel to report
                _ => Copy(frame, output),
            };
            if (!handled)
            {
                if (_frameBuffered)
                {
                    reader.Advance(frame.Length); // already among the block's raw frames
                }

                return PassThrough(ref reader, output);
            }

            reader.Advance(frame.Length);
        }

        return reader.Position;
    }

    private bool StartBlock(ReadOnlySequence<byte> frame, byte flags, int streamId, PipeWriter output)
    {
        byte[] payload = frame.Slice(FrameHeaderLength).ToArray();
        int start = 0;
        int end = payload.Length;
        if ((flags & Padded) != 0)
        {
            if (payload.Length < 1 || payload[0] >= payload.Length)
            {
                return false;
            }

            end -= payload[0];
            start = 1;
        }

        if ((flags & Priority) != 0)
        {
            start += 5;
        }

        if (start > end)
        {
            return false;
        }

        _inBlock = true;
        _blockStreamId = streamId;
        _blockEndsStream = (flags & EndStream) != 0;
        _block.ResetWrittenCount();
        _rawFrames.ResetWrittenCount();
        return Append(frame, payload.AsSpan(start, end - start), flags, output);
    }

    private bool ContinueBlock(ReadOnlySequence<byte> frame, byte flags, PipeWriter output) =>
        Append(frame, frame.Slice(FrameHeaderLength).ToArray(), flags, output);

    private bool Append(ReadOnlySequence<byte> frame, ReadOnlySpan<byte> fragment, byte flags, PipeWriter output)
    {
        foreach (ReadOnlyMemory<byte> segment in frame)
        {
            _rawFrames.Write(segment.Span);
        }

        _frameBuffered = true;

        _block.Write(fragment);
        if (_block.WrittenCount > maxHeaderBlockSize)
        {
            return false; // Kestrel answers for oversized headers
        }

        if ((flags & EndHeaders) != 0)
        {
            return EmitBlock(output);
        }

        return true;
    }

    private bool EmitBlock(PipeWriter output)
    {
        _inBlock = false;
        List<HpackField> fields;
        try
        {
            fields = _decoder.Decode(_block.WrittenSpan, maxHeaderBlockSize);
        }
        catch (HpackException)
        {
            _inBlock = true; // hand the raw frames over unchanged
            return false;
        }

        for (int i = fields.Count - 1; i >= 0; i--)
        {
            HpackField field = fields[i];
            if (field.Name.AsSpan().SequenceEqual(AuthorityName) || field.Name.AsSpan().SequenceEqual(HostName))
            {
                byte[]? repaired = RepairHost(field.Value);
                if (repaired is null)
                {
                    fields.RemoveAt(i);
                }
                else if (!ReferenceEquals(repaired, field.Value))
                {
                    fields[i] = field with { Value = repaired };
                }
            }
        }

        var encoded = new ArrayBufferWriter<byte>(_block.WrittenCount + 64);
        HpackLiteralEncoder.Write(encoded, fields);
        ReadOnlySpan<byte> block = encoded.WrittenSpan;
        bool first = true;
        Span<byte> frameHeader = stackalloc byte[FrameHeaderLength];
        do
        {
            int length = Math.Min(block.Length, maxFrameSize);
            bool last = length == block.Length;
            byte flags = (byte)((last ? EndHeaders : 0) | (first && _blockEndsStream ? EndStream : 0));
            frameHeader[0] = (byte)(length >> 16);
            frameHeader[1] = (byte)(length >> 8);
            frameHeader[2] = (byte)length;
            frameHeader[3] = first ? Headers : Continuation;
            frameHeader[4] = flags;
            BinaryPrimitives.WriteUInt32BigEndian(frameHeader[5..], (uint)_blockStreamId);
            output.Write(frameHeader);
            output.Write(block[..length]);
            block = block[length..];
            first = false;
        }
        while (!block.IsEmpty);

        return true;
    }

    /// <summary>The value itself when it is a valid host; the host:port of a URL; null (drop the field) otherwise.</summary>
    internal static byte[]? RepairHost(byte[] value)
    {
        if (IsValidHost(value))
        {
            return value;
        }

        string text = Encoding.Latin1.GetString(value);
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            string rest = text[(scheme + 3)..];
            int slash = rest.IndexOf('/');
            string authority = slash >= 0 ? rest[..slash] : rest;
            int at = authority.LastIndexOf('@');
            authority = at >= 0 ? authority[(at + 1)..] : authority;
            byte[] candidate = Encoding.Latin1.GetBytes(authority);
            if (candidate.Length > 0 && IsValidHost(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>RFC 3986 host[:port] characters (reg-name, IP literal, port), which is what Kestrel accepts.</summary>
    private static bool IsValidHost(ReadOnlySpan<byte> value)
    {
        foreach (byte c in value)
        {
            bool ok = c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'%' or (byte)'!' or (byte)'$' or (byte)'&' or (byte)'\''
                or (byte)'(' or (byte)')' or (byte)'*' or (byte)'+' or (byte)',' or (byte)';' or (byte)'=' or (byte)':' or (byte)'[' or (byte)']';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private SequencePosition PassThrough(ref SequenceReader<byte> reader, PipeWriter output)
    {
        _mode = Mode.Passthrough;
        if (_inBlock)
        {
            output.Write(_rawFrames.WrittenSpan); // the frames of the unfinished block, as received
            _inBlock = false;
        }

        Copy(reader.UnreadSequence, output);
        reader.AdvanceToEnd();
        return reader.Position;
    }

    private static bool Copy(ReadOnlySequence<byte> bytes, PipeWriter output)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            output.Write(segment.Span);
        }

        return true;
    }
}
