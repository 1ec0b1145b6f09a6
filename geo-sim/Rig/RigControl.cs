using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CurpStore.Rig;

/// <summary>The running rig's control socket: a Unix socket in the state directory taking one command line per
/// connection (<c>cut A B</c>, <c>heal A B</c>, <c>cut-region R</c>, <c>heal-region R</c>, <c>heal-all</c>,
/// <c>status</c>, <c>rtt [SAMPLES]</c>, <c>endpoints</c>, <c>down</c>) and answering with text.</summary>
internal sealed class RigControl : IAsyncDisposable
{
    /// <summary>Longest command line accepted.</summary>
    public const int MaxCommandBytes = 4096;

    /// <summary>RTT samples per link at the most, so that one command cannot keep the rig busy for long.</summary>
    public const int MaxRttSamples = 1000;

    private readonly RigRun rig;
    private readonly Socket listener;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task serving;

    public RigControl(RigRun rig, string socketPath)
    {
        this.rig = rig;
        File.Delete(socketPath);
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(16);
        serving = Task.Run(ServeAsync);
    }

    /// <summary>Completed when a <c>down</c> command arrives.</summary>
    public TaskCompletionSource DownRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sends one command to a running rig and returns its answer.</summary>
    /// <exception cref="RigException">No rig answers on <paramref name="socketPath"/>.</exception>
    public static async Task<string> SendAsync(string socketPath, string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            throw new RigException($"no rig is running with control socket {socketPath} ({e.Message}); start one with `up`", e);
        }
        await socket.SendAsync(Encoding.UTF8.GetBytes(command + "\n"), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            answer.Write(buffer, 0, read);
        }
        return Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Dispose();
        await serving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            using var connection = await listener.AcceptAsync(stopping.Token);
            string answer;
            try
            {
                answer = await ExecuteAsync(await ReadCommandAsync(connection));
            }
            catch (Exception e) when (e is RigException or ArgumentException or FormatException or SocketException or TimeoutException or IOException)
            {
                answer = "error: " + e.Message + "\n";
            }
            try
            {
                await connection.SendAsync(Encoding.UTF8.GetBytes(answer), SocketFlags.None);
            }
            catch (SocketException)
            {
                // the caller went away
            }
        }
    }

    private static async Task<string> ReadCommandAsync(Socket connection)
    {
        var buffer = new byte[MaxCommandBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None)) > 0)
        {
            length += read;
        }
        if (length > MaxCommandBytes)
        {
            throw new RigException($"command longer than {MaxCommandBytes} bytes");
        }
        return Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }

    private async Task<string> ExecuteAsync(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (words)
        {
            case ["cut", var from, var to]:
                rig.Cut(from, to);
                return $"cut {from} -> {to}\n";
            case ["heal", var from, var to]:
                rig.Heal(from, to);
                return $"healed {from} -> {to}\n";
            case ["cut-region", var region]:
                rig.CutRegion(region);
                return $"cut every link between {region} and the other regions\n";
            case ["heal-region", var region]:
                rig.HealRegion(region);
                return $"healed every link between {region} and the other regions\n";
            case ["heal-all"]:
                rig.HealAll();
                return "healed every link\n";
            case ["status"]:
                return rig.Status();
            case ["endpoints"]:
                return rig.Endpoints();
            case ["rtt"]:
                return (await rig.MeasureRttAsync(21)).ToTable();
            case ["rtt", var samples]:
                var count = int.Parse(samples, NumberStyles.None, CultureInfo.InvariantCulture);
                if (count is < 1 or > MaxRttSamples)
                {
                    throw new RigException($"samples must be 1 to {MaxRttSamples}");
                }
                return (await rig.MeasureRttAsync(count)).ToTable();
            case ["down"]:
                DownRequested.TrySetResult();
                return "stopping the rig\n";
            default:
                throw new RigException($"unknown command \"{line}\" (cut A B, heal A B, cut-region R, heal-region R, heal-all, status, rtt [SAMPLES], endpoints, down)");
        }
    }
}
