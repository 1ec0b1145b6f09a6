using CurpStore.Rpc.Etcd;
using Google.Protobuf.Reflection;

namespace CurpStore.Rpc.Tests;

/// <summary>The wire encodings as tables, and the etcd method list against protoc's descriptors.</summary>
[TestClass]
public sealed class ProtocolTests
{
    [TestMethod]
    [DataRow("1H", 36_000_000_000L)]
    [DataRow("2M", 1_200_000_000L)]
    [DataRow("3S", 30_000_000L)]
    [DataRow("250m", 2_500_000L)]
    [DataRow("7u", 70L)]
    [DataRow("100n", 1L)]
    [DataRow("1n", 1L)] // rounded up to the next 100 ns tick: never shorter than asked
    [DataRow("99999999S", 999_999_990_000_000L)]
    [DataRow("0m", 0L)]
    public void GrpcTimeout_DecodesEveryUnit(string header, long expectedTicks)
    {
        Assert.IsTrue(GrpcProtocol.TryDecodeTimeout(header, out TimeSpan timeout, out string error), error);
        Assert.AreEqual(expectedTicks, timeout.Ticks);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("S")]
    [DataRow("10")]
    [DataRow("18f6n")]
    [DataRow("123456789S")] // 9 digits
    [DataRow("-1S")]
    [DataRow("1s")]
    public void GrpcTimeout_RejectsMalformedValues(string header)
    {
        Assert.IsFalse(GrpcProtocol.TryDecodeTimeout(header, out _, out string error));
        Assert.IsFalse(string.IsNullOrEmpty(error));
    }

    [TestMethod]
    public void GrpcTimeout_TheLargestValue_Fits()
    {
        Assert.IsTrue(GrpcProtocol.TryDecodeTimeout("99999999H", out TimeSpan timeout, out _));
        Assert.AreEqual(TimeSpan.FromHours(99_999_999), timeout);
    }

    [TestMethod]
    [DataRow(0L, "0n")]
    [DataRow(1L, "100n")]
    [DataRow(999_999L, "99999900n")]
    [DataRow(1_000_000L, "100000u")]
    [DataRow(10_000_001L, "1000001u")]
    [DataRow(36_000_000_000L, "3600000m")]
    [DataRow(3_600_000_000_000L, "360000S")]
    public void GrpcTimeout_EncodesInTheFinestUnitThatFitsEightDigits(long ticks, string expected)
    {
        Assert.AreEqual(expected, GrpcProtocol.EncodeTimeout(TimeSpan.FromTicks(ticks)));
    }

    [TestMethod]
    public void GrpcTimeout_EncodeThenDecode_NeverShortens()
    {
        foreach (long ticks in new[] { 1L, 7L, 12_345L, 98_765_432_1L, 1_234_567_890_123L, TimeSpan.FromDays(400).Ticks })
        {
            string header = GrpcProtocol.EncodeTimeout(TimeSpan.FromTicks(ticks));
            Assert.IsTrue(header.Length <= 9, header);
            Assert.IsTrue(GrpcProtocol.TryDecodeTimeout(header, out TimeSpan decoded, out _));
            Assert.IsTrue(decoded.Ticks >= ticks, $"{ticks} -> {header} -> {decoded.Ticks}");
        }
    }

    [TestMethod]
    [DataRow("plain text", "plain text")]
    [DataRow("100%", "100%25")]
    [DataRow("ä", "%C3%A4")]
    [DataRow("line\nbreak", "line%0Abreak")]
    public void GrpcMessage_PercentEncodesOutsidePrintableAscii(string message, string encoded)
    {
        Assert.AreEqual(encoded, GrpcProtocol.EncodeMessage(message));
        Assert.AreEqual(message, GrpcProtocol.DecodeMessage(encoded));
    }

    [TestMethod]
    public void GrpcMessage_KeepsMalformedEscapes()
    {
        Assert.AreEqual("50%", GrpcProtocol.DecodeMessage("50%"));
        Assert.AreEqual("%zz", GrpcProtocol.DecodeMessage("%zz"));
    }

    [TestMethod]
    [DataRow("application/grpc", true)]
    [DataRow("application/grpc+proto", true)]
    [DataRow("application/grpc; charset=utf-8", true)]
    [DataRow("application/grpc-web", false)]
    [DataRow("application/json", false)]
    [DataRow(null, false)]
    public void ContentType_IsGrpcOrNot(string? contentType, bool expected)
    {
        Assert.AreEqual(expected, GrpcProtocol.IsGrpcContentType(contentType));
    }

    [TestMethod]
    public void StatusCodes_HaveTheWireValues()
    {
        Assert.AreEqual(17, System.Enum.GetValues<GrpcStatusCode>().Length);
        Assert.AreEqual(0, (int)GrpcStatusCode.OK);
        Assert.AreEqual(4, (int)GrpcStatusCode.DeadlineExceeded);
        Assert.AreEqual(8, (int)GrpcStatusCode.ResourceExhausted);
        Assert.AreEqual(12, (int)GrpcStatusCode.Unimplemented);
        Assert.AreEqual(16, (int)GrpcStatusCode.Unauthenticated);
    }

    [TestMethod]
    public void Metadata_ValidatesKeysAndValues()
    {
        var metadata = new Metadata().Add("Mixed-Case", "v");
        Assert.AreEqual("mixed-case", metadata.Single().Key);
        Assert.ThrowsExactly<ArgumentException>(() => metadata.Add("content-type", "x"));
        Assert.ThrowsExactly<ArgumentException>(() => metadata.Add("bad key", "x"));
        Assert.ThrowsExactly<ArgumentException>(() => metadata.Add("x-bin", "text"));
        Assert.ThrowsExactly<ArgumentException>(() => metadata.Add("x", [1]));
        Assert.ThrowsExactly<ArgumentException>(() => metadata.Add("x", "caf\u00e9"));
    }

    [TestMethod]
    public void EtcdMethods_ListEveryMethodOfEveryEtcdService_WithTheRightShape()
    {
        FileDescriptor[] files = [Etcd.EtcdServerPb.RpcReflection.Descriptor, Etcd.V3LockPb.V3LockReflection.Descriptor, Etcd.V3ElectionPb.V3ElectionReflection.Descriptor];
        var listed = new Dictionary<string, (MethodType Type, System.Type Request, System.Type Response)>();
        foreach (System.Type holder in typeof(KVMethods).Assembly.GetTypes().Where(t => t.Namespace == "CurpStore.Rpc.Etcd" && t.Name.EndsWith("Methods", StringComparison.Ordinal)))
        {
            foreach (System.Reflection.FieldInfo field in holder.GetFields().Where(f => f.IsStatic && f.IsPublic))
            {
                object method = field.GetValue(null)!;
                System.Type[] types = field.FieldType.GetGenericArguments();
                listed.Add((string)field.FieldType.GetProperty("FullName")!.GetValue(method)!, ((MethodType)field.FieldType.GetProperty("Type")!.GetValue(method)!, types[0], types[1]));
            }
        }

        int expected = 0;
        foreach (MethodDescriptor descriptor in files.SelectMany(file => file.Services).SelectMany(service => service.Methods))
        {
            expected++;
            string path = $"/{descriptor.Service.FullName}/{descriptor.Name}";
            Assert.IsTrue(listed.TryGetValue(path, out var entry), $"{path} is missing");
            Assert.AreEqual(descriptor.InputType.ClrType, entry.Request, path);
            Assert.AreEqual(descriptor.OutputType.ClrType, entry.Response, path);
            MethodType shape = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
            {
                (false, false) => MethodType.Unary,
                (true, false) => MethodType.ClientStreaming,
                (false, true) => MethodType.ServerStreaming,
                _ => MethodType.DuplexStreaming,
            };
            Assert.AreEqual(shape, entry.Type, path);
        }

        Assert.AreEqual(expected, listed.Count);
        Assert.AreEqual(MethodType.DuplexStreaming, WatchMethods.Watch.Type);
        Assert.AreEqual("/etcdserverpb.KV/Range", KVMethods.Range.FullName);
        Assert.AreEqual("/v3lockpb.Lock/Lock", LockMethods.Lock.FullName);
        Assert.AreEqual(MethodType.ServerStreaming, ElectionMethods.Observe.Type);
    }
}
