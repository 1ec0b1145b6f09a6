using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CurpStore.Server.Configuration;

/// <summary>Member and cluster ids computed the way etcd computes them (etcdserver/api/membership), so the same
/// --initial-cluster gives the same ids as etcd would and tools that compare ids keep working.</summary>
public static class MemberIds
{
    /// <summary>etcd: SHA-1 over the sorted peer URLs joined, then the cluster token; the first 8 bytes, big-endian.</summary>
    public static ulong MemberId(IEnumerable<Uri> peerUrls, string clusterToken)
    {
        var joined = string.Concat(peerUrls.Select(u => u.OriginalString.TrimEnd('/')).Order(StringComparer.Ordinal)) + clusterToken;
        return BinaryPrimitives.ReadUInt64BigEndian(SHA1.HashData(Encoding.UTF8.GetBytes(joined)));
    }

    /// <summary>etcd: SHA-1 over the member ids (sorted, 8 bytes big-endian each); the first 8 bytes.</summary>
    public static ulong ClusterId(IEnumerable<ulong> memberIds)
    {
        var ids = memberIds.Order().ToArray();
        var bytes = new byte[ids.Length * 8];
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), ids[i]);
        }
        return BinaryPrimitives.ReadUInt64BigEndian(SHA1.HashData(bytes));
    }
}
