using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CurpStore.Server.Tests.BadInput;

/// <summary>
/// A deterministic, seeded generator of bad requests: valid messages of any request type built from its descriptor,
/// then mutated (bit flips, random bytes, truncation, insertions, eleven-byte varints, tags with random field numbers
/// and wire types, length prefixes that lie, repeated slices, two messages spliced), and gRPC frames around them with
/// random flags and length prefixes. The same seed gives the same inputs, so a failure replays from its seed.
/// </summary>
internal sealed class RequestFuzzer(int seed)
{
    private static readonly long[] InterestingNumbers = [0, 1, -1, 2, 127, 128, 255, 256, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, uint.MaxValue];

    private readonly Random random = new(seed);

    public int Seed { get; } = seed;

    /// <summary>The request type of every method of every service the client URL serves (etcd's, lock, election, curp).</summary>
    public static IReadOnlyList<MethodDescriptor> Methods { get; } =
    [
        .. new[]
        {
            Rpc.Etcd.EtcdServerPb.RpcReflection.Descriptor,
            Rpc.Etcd.V3LockPb.V3LockReflection.Descriptor,
            Rpc.Etcd.V3ElectionPb.V3ElectionReflection.Descriptor,
            Rpc.CurpWire.CurpReflection.Descriptor,
        }.SelectMany(file => file.Services).SelectMany(service => service.Methods),
    ];

    public static IReadOnlyList<MessageDescriptor> RequestTypes { get; } = [.. Methods.Select(m => m.InputType).DistinctBy(t => t.FullName)];

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A valid message of type <paramref name="type"/> with random field values.</summary>
    public IMessage Generate(MessageDescriptor type, int depth = 0)
    {
        var message = (IMessage)Activator.CreateInstance(type.ClrType)!;
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (field.IsMap || random.Next(3) == 0 || (field.FieldType == FieldType.Message && depth >= 4))
            {
                continue;
            }
            if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                for (var i = random.Next(4); i > 0; i--)
                {
                    list.Add(Value(field, depth));
                }
            }
            else
            {
                field.Accessor.SetValue(message, Value(field, depth));
            }
        }
        return message;
    }

    private object Value(FieldDescriptor field, int depth)
    {
        long number = random.Next(4) == 0 ? random.NextInt64() : Pick(InterestingNumbers);
        return field.FieldType switch
        {
            FieldType.Bool => random.Next(2) == 1,
            FieldType.String => new string([.. Enumerable.Range(0, random.Next(9)).Select(_ => (char)random.Next(0x20, 0x7f))]),
            FieldType.Bytes => ByteString.CopyFrom([.. Enumerable.Range(0, random.Next(9)).Select(_ => (byte)(random.Next(4) == 0 ? random.Next(256) : random.Next('a', 'e')))]),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => unchecked((int)number),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => number,
            FieldType.UInt32 or FieldType.Fixed32 => unchecked((uint)number),
            FieldType.UInt64 or FieldType.Fixed64 => unchecked((ulong)number),
            FieldType.Double => (double)number,
            FieldType.Float => (float)number,
            FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, random.Next(3) == 0 ? unchecked((int)number) : field.EnumType.Values[random.Next(field.EnumType.Values.Count)].Number),
            FieldType.Message => Generate(field.MessageType, depth + 1),
            _ => throw new NotSupportedException(field.FieldType.ToString()),
        };
    }

    /// <summary>The encoding of a valid <paramref name="type"/> with one to three mutations.</summary>
    public byte[] MutatedMessage(MessageDescriptor type)
    {
        var bytes = Generate(type).ToByteArray().ToList();
        for (var n = 1 + random.Next(3); n > 0; n--)
        {
            Mutate(bytes, type);
        }
        return [.. bytes];
    }

    private void Mutate(List<byte> bytes, MessageDescriptor type)
    {
        var at = random.Next(bytes.Count + 1);
        switch (random.Next(9))
        {
            case 0 when bytes.Count > 0:
                bytes[at % bytes.Count] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[at % bytes.Count] = (byte)random.Next(256);
                break;
            case 2:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 3:
                bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256)));
                break;
            case 4:
                // A varint one byte longer than the longest allowed.
                bytes.InsertRange(at, [Tag(1 + random.Next(20), 0), .. Enumerable.Repeat((byte)0xff, 10), 0x01]);
                break;
            case 5:
                bytes.InsertRange(at, [.. Varint(((ulong)random.Next(1, 1 << 29) << 3) | (uint)random.Next(8)), .. Enumerable.Range(0, random.Next(6)).Select(_ => (byte)random.Next(256))]);
                break;
            case 6:
                // A length-delimited field whose length claims more than there is (or a negative or huge length).
                bytes.InsertRange(at, [Tag(1 + random.Next(20), 2), .. Varint(Pick(new ulong[] { 1_000, int.MaxValue, uint.MaxValue, ulong.MaxValue, (ulong)random.Next(1, 64) })), 0x0a]);
                break;
            case 7 when bytes.Count > 0:
                var start = random.Next(bytes.Count);
                var slice = bytes.GetRange(start, random.Next(bytes.Count - start + 1));
                bytes.InsertRange(at, slice);
                break;
            default:
                bytes.InsertRange(at, Generate(type).ToByteArray());
                break;
        }
    }

    /// <summary>A request body: <paramref name="message"/> in a gRPC frame whose flag, length prefix and length may
    /// lie, sometimes followed by another frame or cut short.</summary>
    public byte[] MutatedFrames(byte[] message)
    {
        var flag = random.Next(10) switch
        {
            0 => (byte)1,
            1 => (byte)random.Next(2, 256),
            _ => (byte)0,
        };
        uint length = random.Next(6) switch
        {
            0 => (uint)random.Next(0, message.Length + 16),
            1 => Pick(new uint[] { uint.MaxValue, int.MaxValue, 16 << 20, 4 << 20 }),
            _ => (uint)message.Length,
        };
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), length);
        message.CopyTo(frame, 5);
        return random.Next(8) switch
        {
            0 => frame[..random.Next(frame.Length + 1)],
            1 => [.. frame, .. frame],
            2 => [],
            _ => frame,
        };
    }

    private static byte Tag(int field, int wireType) => (byte)((field << 3) | wireType);

    private static byte[] Varint(ulong value)
    {
        var output = new List<byte>();
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
        return [.. output];
    }

    /// <summary>Settings for the longer fuzz run: CURPSTORE_FUZZ_SEED and CURPSTORE_FUZZ_ITERATIONS override the CI
    /// defaults (see the README's "Bad input" section).</summary>
    public static (int Seed, int Iterations) Settings(int defaultSeed, int defaultIterations)
    {
        static int? Read(string name) =>
            int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        return (Read("CURPSTORE_FUZZ_SEED") ?? defaultSeed, Read("CURPSTORE_FUZZ_ITERATIONS") ?? defaultIterations);
    }
}
