using System.Net;
using System.Net.Sockets;

namespace CurpStore.Rig.Tests;

[TestClass]
public sealed class DelayProxyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    private static Socket NewSocket() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    private static EchoServer StartEcho() => new(NewSocket(), AnyLoopbackPort);

    private static async Task<Socket> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = NewSocket();
        socket.NoDelay = true;
        await socket.ConnectAsync(endpoint);
        return socket;
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        var received = new byte[count];
        using var timeout = new CancellationTokenSource(Bound);
        for (var offset = 0; offset < count;)
        {
            var read = await socket.ReceiveAsync(received.AsMemory(offset), SocketFlags.None, timeout.Token);
            Assert.AreNotEqual(0, read, $"the connection ended after {offset} of {count} bytes");
            offset += read;
        }
        return received;
    }

    private static async Task AssertEchoesAsync(Socket socket, byte value)
    {
        await socket.SendAsync(new[] { value }, SocketFlags.None);
        CollectionAssert.AreEqual(new[] { value }, await ReceiveExactlyAsync(socket, 1));
    }

    private static async Task AssertResetAsync(Socket socket)
    {
        var reset = await Assert.ThrowsExactlyAsync<SocketException>(async () =>
        {
            using var timeout = new CancellationTokenSource(Bound);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token);
        });
        Assert.AreEqual(SocketError.ConnectionReset, reset.SocketErrorCode);
    }

    [TestMethod]
    public async Task EachDirectionIsDelayedByTheOneWayDelay()
    {
        using var echo = StartEcho();
        await using var proxy = new DelayProxy(AnyLoopbackPort, echo.Endpoint, new LinkDelay(OneWayMs: 30, JitterMeanMs: 0), seed: 1);

        var roundTripsMs = await RttProbe.MeasureAsync(NewSocket, proxy.Endpoint, samples: 20);

        Console.WriteLine($"round trips through a 30 ms link: {string.Join(", ", roundTripsMs.Select(ms => ms.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        Assert.IsTrue(roundTripsMs.All(ms => ms >= 60), $"a round trip took less than twice the one-way delay: {string.Join(", ", roundTripsMs)}");
    }

    [TestMethod]
    public async Task JitterNeverReordersAConnectionsBytes()
    {
        using var echo = StartEcho();
        // Jitter much larger than the delay: without the ordering rule, later chunks would often overtake earlier ones.
        await using var proxy = new DelayProxy(AnyLoopbackPort, echo.Endpoint, new LinkDelay(OneWayMs: 1, JitterMeanMs: 5), seed: 7);
        using var socket = await ConnectAsync(proxy.Endpoint);
        var sent = new List<byte>();
        for (var i = 0; i < 2_000; i++)
        {
            var message = BitConverter.GetBytes(i);
            sent.AddRange(message);
            await socket.SendAsync(message, SocketFlags.None); // separate small writes: separate chunks, separate delays
            if (i % 100 == 0)
            {
                await Task.Delay(1);
            }
        }

        var echoed = await ReceiveExactlyAsync(socket, sent.Count);

        CollectionAssert.AreEqual(sent.ToArray(), echoed);
    }

    [TestMethod]
    public async Task FiftyMegabytesCrossATwentyMillisecondLink()
    {
        const long Total = 50L * 1024 * 1024;
        using var sinkListener = NewSocket();
        sinkListener.Bind(AnyLoopbackPort);
        sinkListener.Listen(1);
        // The sink counts and sums what arrives until end of stream, then answers with both.
        var sink = Task.Run(async () =>
        {
            using var connection = await sinkListener.AcceptAsync();
            var buffer = new byte[64 * 1024];
            long count = 0, sum = 0;
            int read;
            while ((read = await connection.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                count += read;
                for (var i = 0; i < read; i++)
                {
                    sum += buffer[i];
                }
            }
            await connection.SendAsync(BitConverter.GetBytes(count).Concat(BitConverter.GetBytes(sum)).ToArray(), SocketFlags.None);
            connection.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = new DelayProxy(AnyLoopbackPort, (IPEndPoint)sinkListener.LocalEndPoint!, new LinkDelay(OneWayMs: 20, JitterMeanMs: 1), seed: 3);
        using var socket = await ConnectAsync(proxy.Endpoint);

        var chunk = new byte[256 * 1024];
        new Random(5).NextBytes(chunk);
        var chunkSum = chunk.Sum(b => (long)b);
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (long sent = 0; sent < Total; sent += chunk.Length)
        {
            await socket.SendAsync(chunk, SocketFlags.None);
        }
        socket.Shutdown(SocketShutdown.Send); // the FIN must reach the sink after the last byte
        var answer = await ReceiveExactlyAsync(socket, 16);
        Console.WriteLine($"50 MiB through a 20 ms link in {started.Elapsed.TotalSeconds:F2} s");
        await sink.WaitAsync(Bound);

        Assert.AreEqual(Total, BitConverter.ToInt64(answer, 0));
        Assert.AreEqual(Total / chunk.Length * chunkSum, BitConverter.ToInt64(answer, 8));
    }

    [TestMethod]
    [DataRow(true, DisplayName = "forward: open connections reset, new ones refused")]
    [DataRow(false, DisplayName = "backward: open connections reset, the target's answers dropped")]
    public async Task ACutResetsOpenConnectionsAndStopsNewTraffic_HealingRestoresTheLink(bool forward)
    {
        using var echo = StartEcho();
        await using var proxy = new DelayProxy(AnyLoopbackPort, echo.Endpoint, new LinkDelay(OneWayMs: 2, JitterMeanMs: 0), seed: 1);
        using var open = await ConnectAsync(proxy.Endpoint);
        await AssertEchoesAsync(open, 1);

        if (forward)
        {
            proxy.CutForward();
        }
        else
        {
            proxy.CutBackward();
        }

        await AssertResetAsync(open);
        Assert.AreEqual(forward, proxy.ForwardCut);
        Assert.AreEqual(!forward, proxy.BackwardCut);
        if (forward)
        {
            var refused = await Assert.ThrowsExactlyAsync<SocketException>(() => ConnectAsync(proxy.Endpoint));
            Assert.AreEqual(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        else
        {
            using var blackholed = await ConnectAsync(proxy.Endpoint);
            await blackholed.SendAsync(new byte[] { 3 }, SocketFlags.None);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAsync<OperationCanceledException>(async () => await blackholed.ReceiveAsync(new byte[1], SocketFlags.None, wait.Token));
        }

        proxy.Heal();

        using var healed = await ConnectAsync(proxy.Endpoint);
        await AssertEchoesAsync(healed, 4);
        Assert.IsFalse(proxy.ForwardCut || proxy.BackwardCut);
    }

    [TestMethod]
    public async Task ATargetThatIsDownResetsTheConnection()
    {
        using var unused = NewSocket();
        unused.Bind(AnyLoopbackPort); // bound, never listening: connecting to it is refused
        await using var proxy = new DelayProxy(AnyLoopbackPort, (IPEndPoint)unused.LocalEndPoint!, new LinkDelay(1, 0), seed: 1);

        // The proxy accepts, fails to connect onwards and resets: so fast that the connect itself may see the reset.
        var error = await Assert.ThrowsExactlyAsync<SocketException>(async () =>
        {
            using var socket = await ConnectAsync(proxy.Endpoint);
            using var timeout = new CancellationTokenSource(Bound);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token);
        });
        Assert.AreEqual(SocketError.ConnectionReset, error.SocketErrorCode);
    }
}
