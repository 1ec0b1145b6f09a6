namespace CurpStore.Client.Tests;

/// <summary>One 3-member cluster and client for every test class that needs no special cluster (test classes run one
/// after another, and each uses keys of its own).</summary>
[TestClass]
public static class SharedCluster
{
    private static ClusterWithClient? shared;

    internal static InProcessCluster Cluster => Shared.Cluster;

    internal static CurpClient Client => Shared.Client;

    private static ClusterWithClient Shared => shared ?? throw new InvalidOperationException("the shared cluster is not started");

    [AssemblyInitialize]
    public static async Task StartAsync(TestContext context) => shared = await ClusterWithClient.StartAsync();

    [AssemblyCleanup]
    public static async Task StopAsync()
    {
        if (shared is not null)
        {
            await shared.DisposeAsync();
        }
    }
}
