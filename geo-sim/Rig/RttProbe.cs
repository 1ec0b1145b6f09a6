using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CurpStore.Rig;

/// <summary>Measures round trips to an echo server over the real path (the source's DNAT rule, the link's proxy both
/// ways): each sample opens a TCP connection, exchanges one untimed byte (so that the proxy has connected onwards),
/// then times the echo of one more.</summary>
/// <remarks>Blocking calls on a thread of raised priority, for the reason given in <see cref="EchoServer"/>.</remarks>
internal static class RttProbe
{
    private const int SampleTimeoutMs = 10_000;

    /// <summary>Round trips in ms, one per sample, in the order taken.</summary>
    /// <param name="createSocket">Makes the probing socket (in the source's namespace).</param>
    /// <param name="target">The echo server's address as the source knows it.</param>
    /// <param name="samples">How many round trips.</param>
    public static Task<double[]> MeasureAsync(Func<Socket> createSocket, IPEndPoint target, int samples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var measured = new TaskCompletionSource<double[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            ThreadPriority.Raise();
            try
            {
                measured.SetResult([.. Enumerable.Range(0, samples).Select(_ => Sample(createSocket, target))]);
            }
            catch (Exception e)
            {
                measured.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"rtt probe {target}",
        };
        thread.Start();
        return measured.Task;
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Sample(Func<Socket> createSocket, IPEndPoint target)
    {
        using var socket = createSocket();
        socket.NoDelay = true;
        socket.ReceiveTimeout = SampleTimeoutMs;
        socket.SendTimeout = SampleTimeoutMs;
        try
        {
            socket.Connect(target);
            Exchange(socket, target);
            var started = Stopwatch.GetTimestamp();
            Exchange(socket, target);
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new TimeoutException($"no echo from {target} within {SampleTimeoutMs / 1000} s", e);
        }
    }

    private static void Exchange(Socket socket, IPEndPoint target)
    {
        var payload = new byte[] { 42 };
        socket.Send(payload);
        if (socket.Receive(payload) != 1)
        {
            throw new IOException($"the echo server at {target} closed the connection without answering");
        }
    }
}
