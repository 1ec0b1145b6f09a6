using CurpStore.GeoSim;

namespace CurpStore.Rig;

/// <summary>What a rig run starts.</summary>
public sealed record RigOptions
{
    /// <summary>Regions, delays and placement.</summary>
    public required Topology Topology { get; init; }

    /// <summary>"curpstore", "etcd" (Debian's etcd 3.4) or "none" (network and proxies only).</summary>
    public string System { get; init; } = "curpstore";

    /// <summary>Cluster size; the topology's placement for it puts one member per listed region.</summary>
    public int Members { get; init; } = 3;

    /// <summary>Regions that get a client namespace (null: the topology's client regions).</summary>
    public IReadOnlyList<string>? ClientRegions { get; init; }

    /// <summary>Where the run keeps member data and logs (a folder named after the run is made inside).</summary>
    public string StateDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "curpstore-rig");

    /// <summary>The CurpStore server to start (default: the one built next to the rig).</summary>
    public string ServerDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "CurpStore.Server.dll");

    /// <summary>More flags for every member.</summary>
    public IReadOnlyList<string> MemberFlags { get; init; } = [];

    /// <summary>Whether disposing the run deletes its folder (member data and logs); the command line keeps them for
    /// reading after <c>down</c>, tests throw them away.</summary>
    public bool DeleteRunDirectoryOnDispose { get; init; }

    /// <summary>The run's name (null: <see cref="RigPlan.NewRunName"/>). Namespaces and interfaces start with it, so
    /// a tool that shares the machine with other rig users picks its own prefix (8 characters, as the default's).</summary>
    public string? RunName { get; init; }

    /// <summary>Seeds the links' jitter.</summary>
    public int Seed { get; init; } = 1;
}
