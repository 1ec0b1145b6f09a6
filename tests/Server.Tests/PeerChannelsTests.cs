using CurpStore.Rpc;
using CurpStore.Server.Transport;
using Google.Protobuf.WellKnownTypes;

namespace CurpStore.Server.Tests;

/// <summary>The member's pool of kept peer channels: one per peer URL, bounded, closed with the member.</summary>
[TestClass]
public sealed class PeerChannelsTests
{
    private static readonly Method<StringValue, StringValue> Echo = new(MethodType.Unary, "test.Echo", "Echo", StringValue.Parser, StringValue.Parser);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task Shared_KeepsOneChannelPerPeerUrl_WithinItsBound_UntilThePoolIsDisposed()
    {
        await using var server = new GrpcServer();
        server.AddUnaryMethod(Echo, (request, _) => Task.FromResult(request));
        await server.ListenAsync([new Uri("http://127.0.0.1:0")]);
        var address = server.ListeningAddresses[0];
        var peers = new PeerChannels(null, maxSharedChannels: 2);

        var first = peers.Shared(address);
        var firstAnswer = await first.UnaryAsync(Echo, new StringValue { Value = "one" }).WaitAsync(Limit);
        var again = peers.Shared(new Uri(address.ToString()));
        var secondAnswer = await again.UnaryAsync(Echo, new StringValue { Value = "two" }).WaitAsync(Limit);
        var other = peers.Shared(new Uri("http://127.0.0.1:1"));
        var full = Assert.ThrowsExactly<InvalidOperationException>(() => peers.Shared(new Uri("http://127.0.0.1:2")));
        var countBeforeDispose = peers.SharedCount;
        peers.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => peers.Shared(address));
        // The kept channel itself was closed: its HTTP handler refuses new calls.
        await Assert.ThrowsExactlyAsync<ObjectDisposedException>(() => first.UnaryAsync(Echo, new StringValue { Value = "three" }).WaitAsync(Limit));

        Assert.AreEqual(("one", "two"), (firstAnswer.Value, secondAnswer.Value));
        Assert.AreSame(first, again, "the same peer URL gets the same channel");
        Assert.AreNotSame(first, other);
        Assert.AreEqual(2, countBeforeDispose);
        StringAssert.Contains(full.Message, "peer channel pool is full");
    }
}
