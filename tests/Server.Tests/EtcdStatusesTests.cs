using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Facade;

namespace CurpStore.Server.Tests;

/// <summary>etcd's shared error statuses keep etcd's code and text, and the parts that answer them use the one
/// definition (the auth and watch refusals are checked with the same text in their own tests).</summary>
[TestClass]
public sealed class EtcdStatusesTests
{
    [TestMethod]
    public void TooManyRequests_IsEtcdsResourceExhaustedText_AndThrowsAsIs()
    {
        Assert.AreEqual(new GrpcStatus(GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests"), EtcdStatuses.TooManyRequests);
        var thrown = EtcdStatuses.TooManyRequests.ToException();
        Assert.AreEqual((GrpcStatusCode.ResourceExhausted, "etcdserver: too many requests"), (thrown.StatusCode, thrown.Detail));
    }

    [TestMethod]
    public void WriteAdmission_RefusesOnlyWritesBeyondTheBound_WithTooManyRequests()
    {
        var limit = WriteAdmission.Limit(3);
        Assert.AreEqual(EtcdStatuses.TooManyRequests, limit.Refusal);
        Assert.AreEqual(3, limit.MaxCalls);
        Assert.IsTrue(limit.Covers(KVMethods.Put.FullName));
        Assert.IsTrue(limit.Covers(KVMethods.DeleteRange.FullName));
        Assert.IsTrue(limit.Covers(KVMethods.Txn.FullName));
        Assert.IsFalse(limit.Covers(KVMethods.Range.FullName), "a range may be serializable, which the host does not bound");
    }
}
