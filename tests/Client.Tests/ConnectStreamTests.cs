using System.Globalization;
using CurpStore.Rpc;
using CurpStore.Rpc.CurpWire;
using CurpStore.Server;
using CurpStore.Wire;

namespace CurpStore.Client.Tests;

/// <summary>The member's side of <c>Curp/Connect</c>, spoken to directly: a client stream may only carry its own
/// proposer's requests to that member, never a member's messages or identity.</summary>
[TestClass]
public sealed class ConnectStreamTests
{
    private static GrpcChannel channel = null!;
    private static ulong memberId;
    private static ulong otherMemberId;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        var cluster = SharedCluster.Cluster;
        var leader = await cluster.WaitForLeaderAsync();
        channel = new GrpcChannel(new Uri(cluster.Endpoints[leader]));
        memberId = cluster.Members[leader]!.MemberId;
        otherMemberId = cluster.Members[(leader + 1) % 3]!.MemberId;
    }

    [ClassCleanup]
    public static void Stop() => channel?.Dispose();

    private static AsyncDuplexStreamingCall<EnvelopeBatch, EnvelopeBatch> Open(ulong? proposerId)
    {
        var headers = new Metadata();
        if (proposerId is { } id)
        {
            headers.Add(CurpMethods.ProposerIdHeader, id.ToString(CultureInfo.InvariantCulture));
        }
        return channel.DuplexStreaming(CurpMethods.Connect, new CallOptions(Headers: headers, Deadline: DateTime.UtcNow.AddSeconds(10)));
    }

    /// <summary>Sends <paramref name="envelopes"/> (if any) and returns the status the member ended the call with.</summary>
    private static async Task<RpcException> EndsWithAsync(ulong? proposerId, params Envelope[] envelopes)
    {
        using var call = Open(proposerId);
        if (envelopes.Length > 0)
        {
            // The member judges envelopes only after reading them, so this write completes before the call ends.
            var batch = new EnvelopeBatch();
            batch.Envelopes.AddRange(envelopes);
            await call.RequestStream.WriteAsync(batch);
        }
        return await Assert.ThrowsExactlyAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
    }

    private static Envelope Register(ulong from, ulong to) => new() { From = from, To = to, RegisterSessionRequest = new RegisterSessionRequest { Nonce = 7 } };

    [TestMethod]
    public async Task AStreamBoundToAProposerId_GetsItsAnswersBack()
    {
        const ulong proposer = 0x0123_4567_89ab_cdef;
        using var call = Open(proposer);
        var batch = new EnvelopeBatch();
        batch.Envelopes.Add(Register(proposer, memberId));
        await call.RequestStream.WriteAsync(batch);
        Assert.IsTrue(await call.ResponseStream.MoveNext());
        var answer = call.ResponseStream.Current.Envelopes.Single();
        Assert.AreEqual(Envelope.BodyOneofCase.RegisterSessionResponse, answer.BodyCase);
        Assert.AreEqual(proposer, answer.To);
        Assert.AreEqual(memberId, answer.From);
        Assert.AreEqual(7UL, answer.RegisterSessionResponse.Nonce);
        Assert.AreNotEqual(0UL, answer.RegisterSessionResponse.ClientId, "the leader opened a session through its log");
    }

    [TestMethod]
    public async Task WithoutAProposerId_TheStreamIsRefused()
    {
        var error = await EndsWithAsync(null);
        Assert.AreEqual(GrpcStatusCode.InvalidArgument, error.StatusCode, error.Detail);
    }

    [TestMethod]
    public async Task AMembersIdOrAMemberHostsProposerId_CannotBeClaimed()
    {
        foreach (var claimed in new[] { memberId, otherMemberId, ServerProcess.ProposerIdOf(otherMemberId) })
        {
            // Refused from the headers alone, before any message: nothing is written, so the refusal cannot race a write.
            var error = await EndsWithAsync(claimed);
            Assert.AreEqual(GrpcStatusCode.PermissionDenied, error.StatusCode, error.Detail);
            StringAssert.Contains(error.Detail, "belongs to a member");
        }
    }

    [TestMethod]
    public async Task AMessageFromAnotherId_EndsTheStream()
    {
        var error = await EndsWithAsync(11, Register(otherMemberId, memberId));
        Assert.AreEqual(GrpcStatusCode.PermissionDenied, error.StatusCode, error.Detail);
    }

    [TestMethod]
    public async Task AMembersMessage_EndsTheStream()
    {
        var append = new Envelope { From = 12, To = memberId, AppendRequest = new AppendRequest { Term = 1_000_000 } };
        var error = await EndsWithAsync(12, append);
        Assert.AreEqual(GrpcStatusCode.PermissionDenied, error.StatusCode, error.Detail);
        StringAssert.Contains(error.Detail, "AppendRequest");
        Assert.IsTrue(SharedCluster.Cluster.Members.All(m => m!.Host.Status.Term < 1_000_000), "the forged append never reached the core");
    }

    [TestMethod]
    public async Task AMessageForAnotherMember_EndsTheStream()
    {
        var error = await EndsWithAsync(13, Register(13, otherMemberId));
        Assert.AreEqual(GrpcStatusCode.InvalidArgument, error.StatusCode, error.Detail);
    }
}
