using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;

namespace CurpStore.Server.Transport;

/// <summary>The gRPC method members and proposers use to hand each other the core's messages.</summary>
public static class CurpMethods
{
    public static readonly Method<EnvelopeBatch, BatchAck> Deliver = Method<EnvelopeBatch, BatchAck>.FromDescriptor(
        CurpReflection.Descriptor.Services.Single(s => s.Name == "Curp").FindMethodByName("Deliver"));

    public static readonly Method<EnvelopeBatch, BatchAck> Stream = Method<EnvelopeBatch, BatchAck>.FromDescriptor(
        CurpReflection.Descriptor.Services.Single(s => s.Name == "Curp").FindMethodByName("Stream"));
}
