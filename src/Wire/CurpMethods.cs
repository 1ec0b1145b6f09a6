using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;

namespace CurpStore.Wire;

/// <summary>The gRPC methods members and proposers use to hand each other the core's messages (curp.proto's
/// <c>Curp</c> service).</summary>
public static class CurpMethods
{
    /// <summary>The request metadata that binds a <see cref="Connect"/> stream to one proposer id (decimal).</summary>
    public const string ProposerIdHeader = "curp-proposer-id";

    /// <summary>Member to member (and to remote proposers through their host) on the peer URL: one batch per call.</summary>
    public static readonly Method<EnvelopeBatch, BatchAck> Deliver = Method<EnvelopeBatch, BatchAck>.FromDescriptor(
        CurpReflection.Descriptor.Services.Single(s => s.Name == "Curp").FindMethodByName("Deliver"));

    /// <summary>An external proposer to one member on the client URL: its requests up, the member's answers down.</summary>
    public static readonly Method<EnvelopeBatch, EnvelopeBatch> Connect = Method<EnvelopeBatch, EnvelopeBatch>.FromDescriptor(
        CurpReflection.Descriptor.Services.Single(s => s.Name == "Curp").FindMethodByName("Connect"));

    /// <summary>What a proposer may send a member: its requests, never a member's messages.</summary>
    public static bool IsProposerRequest(Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return envelope.BodyCase is Envelope.BodyOneofCase.ProposeRequest
            or Envelope.BodyOneofCase.RegisterSessionRequest
            or Envelope.BodyOneofCase.ReadRequest;
    }
}
