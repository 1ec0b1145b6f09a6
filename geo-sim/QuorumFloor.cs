namespace CurpStore.GeoSim;

/// <summary>
/// The latency floor a write cannot beat, given only where the client, the leader and the other
/// members are: the number measured latencies are compared against.
/// </summary>
/// <remarks>
/// <para>
/// Without a floor, "p50 = 95 ms" says nothing; next to "floor = 81 ms" it says the protocol adds
/// 14 ms of its own. The floor ignores jitter, processing and queueing, so measured latency
/// should never be below it (a sample under the floor means the simulator or the accounting is wrong).
/// </para>
/// <para>
/// With n members, f = (n-1)/2 failures are tolerated, a quorum is q = f+1 and CURP's superquorum
/// is sq = f + ceil(f/2) + 1. RTT is twice the one-way delay.
/// </para>
/// <list type="bullet">
/// <item>fast = max(RTT(client, leader), RTT(client, the (sq-1)-th nearest member other than the leader)):
/// the client needs the leader's answer and sq-1 other witnesses' acceptances.</item>
/// <item>slow = RTT(client, leader) + RTT(leader, its (q-1)-th nearest follower):
/// the leader replicates to a quorum (itself plus q-1 followers) before answering.</item>
/// <item>commit_notice = oneWay(client, leader) + the (q-1)-th smallest, over followers F, of
/// oneWay(leader, F) + oneWay(F, client): followers notify the client of the commit directly.</item>
/// </list>
/// </remarks>
public static class QuorumFloor
{
    /// <summary>Failures tolerated by an n-member cluster: (n-1)/2 (the core's <see cref="Curp.Quorum"/>).</summary>
    public static int FaultTolerance(int clusterSize) => new Curp.Quorum(RequireOdd(clusterSize)).FaultsTolerated;

    /// <summary>Majority quorum: f + 1.</summary>
    public static int Quorum(int clusterSize) => new Curp.Quorum(RequireOdd(clusterSize)).Majority;

    /// <summary>CURP superquorum: f + ceil(f/2) + 1.</summary>
    public static int SuperQuorum(int clusterSize) => new Curp.Quorum(RequireOdd(clusterSize)).SuperQuorum;

    /// <summary>Floors for the topology's own placement and preferred leader region.</summary>
    public static QuorumFloorResult Compute(Topology topology, int clusterSize, string clientRegion)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return Compute(topology, clusterSize, clientRegion, topology.LeaderRegion, topology.PlacementFor(clusterSize));
    }

    /// <summary>Floors for an explicit leader region and member placement.</summary>
    /// <param name="topology">Delays.</param>
    /// <param name="clusterSize">n, odd.</param>
    /// <param name="clientRegion">Where the client runs.</param>
    /// <param name="leaderRegion">Where the leader runs; must be one of <paramref name="memberRegions"/>.</param>
    /// <param name="memberRegions">Region of every member, leader included (n entries).</param>
    public static QuorumFloorResult Compute(
        Topology topology,
        int clusterSize,
        string clientRegion,
        string leaderRegion,
        IReadOnlyList<string> memberRegions)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(memberRegions);
        RequireOdd(clusterSize);
        if (memberRegions.Count != clusterSize)
        {
            throw new ArgumentException(
                $"{memberRegions.Count} member regions given for a {clusterSize}-node cluster", nameof(memberRegions));
        }

        // The followers are the members minus one member in the leader's region (the leader itself).
        var followers = memberRegions.ToList();
        if (!followers.Remove(leaderRegion))
        {
            throw new ArgumentException(
                $"no member is in the leader's region \"{leaderRegion}\" ({string.Join(", ", memberRegions)})",
                nameof(leaderRegion));
        }

        int q = Quorum(clusterSize);
        int sq = SuperQuorum(clusterSize);
        double Rtt(string a, string b) => 2 * topology.OneWayMs(a, b);

        double clientLeaderRtt = Rtt(clientRegion, leaderRegion);

        double fast = Math.Max(
            clientLeaderRtt,
            KthSmallest(followers.Select(f => Rtt(clientRegion, f)), sq - 1));
        double slow = clientLeaderRtt + KthSmallest(followers.Select(f => Rtt(leaderRegion, f)), q - 1);
        double commitNotice = topology.OneWayMs(clientRegion, leaderRegion) + (q == 1
            ? topology.OneWayMs(leaderRegion, clientRegion) // a one-member quorum: the leader answers
            : KthSmallest(
                followers.Select(f => topology.OneWayMs(leaderRegion, f) + topology.OneWayMs(f, clientRegion)),
                q - 1));

        return new QuorumFloorResult(fast, slow, Math.Min(fast, slow), commitNotice);
    }

    /// <summary>k-th smallest (1-based); 0 when k is 0 (nothing needed from the others).</summary>
    private static double KthSmallest(IEnumerable<double> values, int k)
    {
        if (k == 0)
        {
            return 0;
        }

        double[] sorted = [.. values.Order()];
        return sorted[k - 1];
    }

    private static int RequireOdd(int clusterSize)
    {
        if (clusterSize < 1 || clusterSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(clusterSize), clusterSize, "must be odd and >= 1 (an even size adds a member without adding tolerance)");
        }

        return clusterSize;
    }
}
