namespace CurpStore.Client.Tests;

/// <summary>A 3-member in-process cluster and one client connected to it, shared by the tests of a class.</summary>
internal sealed class ClusterWithClient : IAsyncDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private ClusterWithClient(InProcessCluster cluster, CurpClient client)
    {
        Cluster = cluster;
        Client = client;
    }

    public InProcessCluster Cluster { get; }

    public CurpClient Client { get; }

    public static async Task<ClusterWithClient> StartAsync(TimeSpan linkDelay = default)
    {
        var cluster = await InProcessCluster.StartAsync(linkDelay: linkDelay);
        return new ClusterWithClient(cluster, await CurpClient.ConnectAsync(cluster.Endpoints, new CurpClientOptions { DefaultTimeout = CallTimeout }));
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
