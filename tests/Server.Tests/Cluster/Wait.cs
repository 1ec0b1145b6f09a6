using CurpStore.Rpc;

namespace CurpStore.Server.Tests.Cluster;

/// <summary>Bounded waits for process tests: a condition polled until it holds, or the test fails saying what did not
/// happen (never a timing assertion).</summary>
internal static class Wait
{
    /// <param name="context">More to print when the wait fails (logs).</param>
    public static async Task UntilAsync(string what, TimeSpan limit, Func<Task<bool>> condition, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + limit;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException or IOException or TimeoutException)
            {
                last = e; // not serving yet, or the call failed: poll again
            }
            await Task.Delay(100);
        }
        Assert.Fail($"{what} did not happen within {limit} ({last?.Message})\n{context?.Invoke()}");
    }
}
