using System.Net;
using System.Net.Sockets;

namespace CurpStore.Rig;

/// <summary>Echoes every byte back on each accepted connection: the far end of an RTT probe.</summary>
/// <remarks>Blocking calls on threads of raised priority, like the proxy's pumps (see
/// <see cref="DelayProxy"/>): an echo that waits for a thread-pool turn on a loaded machine adds its wait to the
/// round trip being measured.</remarks>
internal sealed class EchoServer : IDisposable
{
    private readonly Socket listener;

    /// <param name="listener">A socket not yet bound (created in the namespace it should serve).</param>
    /// <param name="endpoint">Where to listen.</param>
    public EchoServer(Socket listener, IPEndPoint endpoint)
    {
        this.listener = listener;
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endpoint);
        listener.Listen(128);
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        StartThread("echo accept", AcceptLoop);
    }

    public IPEndPoint Endpoint { get; }

    public void Dispose() => listener.Dispose();

    private static void StartThread(string name, Action action)
    {
        var thread = new Thread(() =>
        {
            ThreadPriority.Raise();
            action();
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
    }

    private static void Echo(Socket connection)
    {
        using (connection)
        {
            var buffer = new byte[4096];
            try
            {
                int read;
                while ((read = connection.Receive(buffer)) > 0)
                {
                    connection.Send(buffer, 0, read, SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the prober went away
            }
        }
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // disposed
            }
            connection.NoDelay = true;
            StartThread("echo", () => Echo(connection));
        }
    }
}
