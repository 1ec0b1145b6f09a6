using System.Collections.Immutable;
using CurpStore.Curp;

namespace CurpStore.Server.Members;

/// <summary>One member as the directory lists it.</summary>
public sealed record ClusterMember(ulong Id, bool IsLearner, MemberAttributes Attributes);

/// <summary>
/// The cluster's members as this member last saw them in its core's configuration: ids, voter or learner, and
/// attributes. The host's loop replaces it whenever the configuration changes (when a change is appended, the point at
/// which a single-member change takes effect); any thread reads it: the peer transport to find an address, the Cluster
/// service to list members.
/// </summary>
public sealed class MemberDirectory
{
    private volatile Snapshot current;

    public MemberDirectory(Membership initial)
    {
        current = Snapshot.Of(initial);
    }

    /// <summary>Raised on the thread that called <see cref="Update"/> after the directory changed.</summary>
    public event Action<MemberDirectory>? Changed;

    public Membership Membership => current.Membership;

    /// <summary>Every member in id order (etcd lists members sorted by id).</summary>
    public ImmutableArray<ClusterMember> Members => current.Members;

    public ClusterMember? Find(ulong id) => current.ById.GetValueOrDefault(id);

    public bool Contains(ulong id) => current.ById.ContainsKey(id);

    /// <summary>The first peer URL of a member; null for a member this one does not know (or one without URLs).</summary>
    public Uri? PeerUrlOf(ulong id) =>
        Find(id)?.Attributes.PeerUrls is [var first, ..] && Uri.TryCreate(first, UriKind.Absolute, out var url) ? url : null;

    public void Update(Membership membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        if (ReferenceEquals(membership, current.Membership))
        {
            return;
        }
        current = Snapshot.Of(membership);
        Changed?.Invoke(this);
    }

    private sealed record Snapshot(Membership Membership, ImmutableArray<ClusterMember> Members, ImmutableDictionary<ulong, ClusterMember> ById)
    {
        public static Snapshot Of(Membership membership)
        {
            var members = membership.All.Order()
                .Select(id => new ClusterMember(id, membership.Learners.Contains(id), MemberAttributes.FromJson(membership.Attributes.GetValueOrDefault(id))))
                .ToImmutableArray();
            return new Snapshot(membership, members, members.ToImmutableDictionary(m => m.Id));
        }
    }
}
