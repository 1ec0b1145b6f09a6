using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace CurpStore.Rpc;

/// <summary>
/// gRPC's Length-Prefixed-Message: a 1-byte compressed flag, a 4-byte big-endian length, then the protobuf bytes.
/// We never compress and never advertise compression, so a set flag is an error (grpc-go's codes and wording).
/// Reading buffers at most one message, and refuses a message above the receive limit as soon as its prefix
/// arrives, before any of its body is buffered.
/// </summary>
internal static class MessageFraming
{
    public const int PrefixSize = 5;

    /// <summary>Writes one framed message of a size from <see cref="CheckSendSize"/> into a pipe; the caller flushes.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, int size)
    {
        Span<byte> prefix = writer.GetSpan(PrefixSize);
        prefix[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)size);
        writer.Advance(PrefixSize);
        if (size > 0)
        {
            message.WriteTo(writer); // in the writer's own segments: no contiguous buffer of the message's size
        }
    }

    /// <summary>Frames one message into a new array (a unary or server-streaming request body).</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED: the message is larger than <paramref name="maxSendSize"/>.</exception>
    public static byte[] ToArray(IMessage message, int maxSendSize)
    {
        int size = CheckSendSize(message, maxSendSize);
        byte[] frame = new byte[PrefixSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)size);
        message.WriteTo(frame.AsSpan(PrefixSize));
        return frame;
    }

    /// <summary>Frames one message into a rented buffer; return it to <see cref="ArrayPool{T}.Shared"/> after use.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED: the message is larger than <paramref name="maxSendSize"/>.</exception>
    public static (byte[] Buffer, int Length) ToRentedArray(IMessage message, int maxSendSize)
    {
        int size = CheckSendSize(message, maxSendSize);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(PrefixSize + size);
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        message.WriteTo(buffer.AsSpan(PrefixSize, size));
        return (buffer, PrefixSize + size);
    }

    /// <summary>
    /// Reads the next message, or null when the stream ended cleanly between messages. A server reading requests
    /// (<paramref name="readingRequests"/>) words its errors as grpc-go's server does, because etcd clients and tools
    /// see those (checked against etcd 3.4): bytes that do not parse are INTERNAL "grpc: error unmarshalling request:
    /// ...", a stream that ends inside a message is UNKNOWN "unexpected EOF".
    /// </summary>
    /// <exception cref="RpcException">
    /// RESOURCE_EXHAUSTED for a message above <paramref name="maxReceiveSize"/>; INTERNAL for a set compressed flag,
    /// an unknown flag or bytes that do not parse; INTERNAL (client) or UNKNOWN (server) for a stream that ends
    /// inside a message.
    /// </exception>
    public static async ValueTask<T?> ReadAsync<T>(PipeReader reader, MessageParser<T> parser, int maxReceiveSize, bool readingRequests, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= PrefixSize)
            {
                RpcException? error = ReadPrefix(buffer, maxReceiveSize, out int size);
                if (error is not null)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw error;
                }

                if (buffer.Length >= PrefixSize + size)
                {
                    ReadOnlySequence<byte> body = buffer.Slice(PrefixSize, size);
                    T message;
                    try
                    {
                        message = (T)Parse(parser, body, readingRequests);
                    }
                    catch (RpcException)
                    {
                        reader.AdvanceTo(buffer.Start);
                        throw;
                    }

                    reader.AdvanceTo(body.End);
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                if (buffer.Length == 0)
                {
                    return null;
                }

                throw readingRequests
                    ? new RpcException(GrpcStatusCode.Unknown, "unexpected EOF")
                    : new RpcException(GrpcStatusCode.Internal, "grpc: the stream ended inside a message (unexpected EOF)");
            }

            if (result.IsCanceled)
            {
                reader.AdvanceTo(buffer.Start);
                throw new OperationCanceledException(cancellationToken);
            }

            // Keep what we have and wait for more: at most one message (bounded by maxReceiveSize) is buffered.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Parses one message body. Every way the decoder can fail is the call's INTERNAL error: besides
    /// InvalidProtocolBufferException, Google.Protobuf 3.25 throws ArgumentOutOfRangeException or
    /// IndexOutOfRangeException for a nested length prefix near int.MaxValue (its limit arithmetic overflows; found by
    /// the request fuzzer), so any exception but running out of memory counts as malformed bytes.</summary>
    /// <exception cref="RpcException">INTERNAL: the bytes are not a <paramref name="parser"/> message.</exception>
    internal static IMessage Parse(MessageParser parser, ReadOnlySequence<byte> body, bool readingRequests)
    {
        try
        {
            return parser.ParseFrom(body);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new RpcException(GrpcStatusCode.Internal, readingRequests
                ? $"grpc: error unmarshalling request: {e.Message}"
                : $"grpc: failed to unmarshal the received message: {e.Message}", innerException: e);
        }
    }

    private static RpcException? ReadPrefix(ReadOnlySequence<byte> buffer, int maxReceiveSize, out int size)
    {
        Span<byte> prefix = stackalloc byte[PrefixSize];
        buffer.Slice(0, PrefixSize).CopyTo(prefix);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        size = (int)Math.Min(length, int.MaxValue);
        return prefix[0] switch
        {
            0 when length > (uint)maxReceiveSize => new RpcException(
                GrpcStatusCode.ResourceExhausted, $"grpc: received message larger than max ({length} vs. {maxReceiveSize})"),
            0 => null,
            1 => new RpcException(GrpcStatusCode.Internal, "grpc: compressed flag set with identity or empty encoding"),
            _ => new RpcException(GrpcStatusCode.Internal, $"grpc: received unexpected payload format {prefix[0]}"),
        };
    }

    /// <summary>The message's size, checked against the send limit.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED: the message is larger than <paramref name="maxSendSize"/>.</exception>
    public static int CheckSendSize(IMessage message, int maxSendSize)
    {
        int size = message.CalculateSize();
        if (size > maxSendSize)
        {
            throw new RpcException(GrpcStatusCode.ResourceExhausted, $"grpc: trying to send message larger than max ({size} vs. {maxSendSize})");
        }

        return size;
    }
}
