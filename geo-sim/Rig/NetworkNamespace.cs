using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace CurpStore.Rig;

/// <summary>Creates sockets inside a named network namespace (<c>ip netns</c>) from this process.</summary>
/// <remarks>
/// A socket belongs to the namespace of the thread that created it, for its whole life, and Linux's <c>setns</c>
/// moves only the calling thread. So a short-lived thread enters the namespace, creates the socket and ends; the
/// socket is then used from any thread. This lets the rig's echo servers and RTT probes run in the rig process itself,
/// on exactly the path (DNAT rules, proxies) that the members' and clients' traffic takes.
/// </remarks>
internal static partial class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>A new TCP socket in namespace <paramref name="name"/>.</summary>
    public static Socket CreateTcpSocket(string name) =>
        RunInside(name, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

    private static T RunInside<T>(string name, Func<T> action)
    {
        T? result = default;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", name));
                if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns into network namespace {name} failed: errno {Marshal.GetLastPInvokeError()}");
                }
                result = action();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        error?.Throw();
        return result!;
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fileDescriptor, int namespaceType);
}
