using System.Collections.Immutable;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Configuration;
using CurpStore.Server.Hosting;
using CurpStore.Server.Members;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Cluster;

/// <summary>The member directory, attributes, identity and learner admission without processes.</summary>
[TestClass]
public sealed class MemberDirectoryTests
{
    private static Membership Sample() => new Membership([7, 3], [5])
    {
        Attributes = ImmutableSortedDictionary.CreateRange(new Dictionary<ulong, string>
        {
            [3] = new MemberAttributes("m3", ["http://127.0.0.1:2391"], ["http://127.0.0.1:2390"]).ToJson(),
            [5] = MemberAttributes.Unstarted(["http://127.0.0.1:2401"]).ToJson(),
            [7] = "not json",
        }),
    };

    [TestMethod]
    public void TheDirectory_ListsMembersByIdWithTheirAttributes()
    {
        var directory = new MemberDirectory(Sample());
        CollectionAssert.AreEqual(new ulong[] { 3, 5, 7 }, directory.Members.Select(m => m.Id).ToArray());
        Assert.IsTrue(directory.Find(5)!.IsLearner);
        Assert.IsFalse(directory.Find(5)!.Attributes.IsStarted);
        Assert.AreEqual("m3", directory.Find(3)!.Attributes.Name);
        Assert.AreEqual(new Uri("http://127.0.0.1:2391"), directory.PeerUrlOf(3));
        Assert.IsNull(directory.PeerUrlOf(7), "attributes it cannot read leave a member without address");
        Assert.IsNull(directory.PeerUrlOf(9));

        var changes = 0;
        directory.Changed += _ => changes++;
        directory.Update(directory.Membership);
        Assert.AreEqual(0, changes, "the same configuration is no change");
        directory.Update(Membership.Of([3]));
        Assert.AreEqual(1, changes);
        Assert.IsFalse(directory.Contains(5));
    }

    [TestMethod]
    public void Attributes_RoundTripAsEtcdsJsonFieldNames()
    {
        var attributes = new MemberAttributes("m1", ["http://a:1", "http://b:2"], ["http://c:3"]);
        var json = attributes.ToJson();
        StringAssert.Contains(json, "\"peerURLs\"");
        StringAssert.Contains(json, "\"clientURLs\"");
        var read = MemberAttributes.FromJson(json);
        Assert.AreEqual("m1", read.Name);
        CollectionAssert.AreEqual(new[] { "http://a:1", "http://b:2" }, read.PeerUrls.ToArray());
        CollectionAssert.AreEqual(new[] { "http://c:3" }, read.ClientUrls.ToArray());
        Assert.IsFalse(MemberAttributes.FromJson(null).IsStarted);
    }

    [TestMethod]
    public void ANewClustersIdentity_HashesIdsAsEtcd_AndAJoinedOneSurvivesItsFile()
    {
        var options = new ServerOptions
        {
            Name = "b",
            InitialCluster = [new InitialMember("a", new Uri("http://127.0.0.1:2380")), new InitialMember("b", new Uri("http://127.0.0.1:2480"))],
        };
        var identity = MemberIdentity.ForNewCluster(options);
        Assert.AreEqual(MemberIds.MemberId([new Uri("http://127.0.0.1:2480")], "etcd-cluster"), identity.MemberId);
        Assert.AreEqual(2, identity.Bootstrap.Voters.Count);
        Assert.AreEqual("a", MemberAttributes.FromJson(identity.Bootstrap.Attributes[MemberIds.MemberId([new Uri("http://127.0.0.1:2380")], "etcd-cluster")]).Name);

        var list = new Pb.MemberListResponse();
        list.Members.Add(new Pb.Member { ID = 1, Name = "a", PeerURLs = { "http://x:1" }, ClientURLs = { "http://x:2" } });
        list.Members.Add(new Pb.Member { ID = 2, PeerURLs = { "http://y:1" }, IsLearner = true });
        var joined = new MemberIdentity(2, 99, MemberIdentity.FromMemberList(list));
        var read = MemberIdentity.Read(joined.ToJson());
        Assert.AreEqual(2UL, read.MemberId);
        Assert.AreEqual(99UL, read.ClusterId);
        CollectionAssert.AreEqual(new ulong[] { 1 }, read.Bootstrap.Voters.ToArray());
        CollectionAssert.AreEqual(new ulong[] { 2 }, read.Bootstrap.Learners.ToArray());
        Assert.AreEqual("a", MemberAttributes.FromJson(read.Bootstrap.Attributes[1]).Name);
    }

    [TestMethod]
    public void ALearner_ServesOnlyStatusSerializableRangesAndSnapshots_AndARemovedMemberNothing()
    {
        var learner = HostStatus.Unknown with { Members = new Membership([1, 2], [3]) };
        RpcException? Judge(ulong self, bool removed, string method, Google.Protobuf.IMessage? request) =>
            MemberAdmission.Judge(learner, self, removed, method, request);

        Assert.IsNull(Judge(3, false, "/etcdserverpb.Maintenance/Status", new Pb.StatusRequest()));
        Assert.IsNull(Judge(3, false, "/etcdserverpb.KV/Range", new Pb.RangeRequest { Serializable = true }));
        Assert.IsNull(Judge(3, false, Rpc.Etcd.MaintenanceMethods.Snapshot.FullName, new Pb.SnapshotRequest()));
        var refused = Judge(3, false, "/etcdserverpb.KV/Range", new Pb.RangeRequest());
        Assert.AreEqual(GrpcStatusCode.Unavailable, refused!.StatusCode);
        Assert.AreEqual("etcdserver: rpc not supported for learner", refused.Status.Detail);
        Assert.IsNotNull(Judge(3, false, "/etcdserverpb.KV/Put", new Pb.PutRequest()));
        Assert.IsNotNull(Judge(3, false, "/etcdserverpb.Watch/Watch", null));
        Assert.IsNotNull(Judge(3, false, "/etcdserverpb.Cluster/MemberList", new Pb.MemberListRequest()), "etcd 3.5 refuses MemberList on a learner too");
        Assert.IsNull(Judge(1, false, "/etcdserverpb.KV/Put", new Pb.PutRequest()), "a voter serves everything");
        Assert.AreEqual("etcdserver: the member has been permanently removed from the cluster", Judge(1, true, "/etcdserverpb.KV/Range", new Pb.RangeRequest { Serializable = true })!.Status.Detail);
    }
}
