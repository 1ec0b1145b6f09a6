using CurpStore.Rpc;
using CurpStore.Rpc.Etcd;
using CurpStore.Server.Storage;
using CurpStore.Server.Tests.Watch;
using Pb = CurpStore.Rpc.Etcd.EtcdServerPb;

namespace CurpStore.Server.Tests.Maintenance;

/// <summary>Status's dbSize and dbSizeInUse are the store engine's files on disk, as etcd's are its bolt file's: never 0
/// for an existing store (etcdctl's JSON would leave the fields out, as protobuf leaves out zeros).</summary>
[TestClass]
public sealed class StatusSizeTests
{
    private static CallOptions Options => new(Deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10));

    [TestMethod]
    public async Task FreshMember_ReportsItsStoreFilesAsDbSize_NotZero()
    {
        var dataDir = Directory.CreateTempSubdirectory("curpstore-status-").FullName;
        try
        {
            await using (var cluster = await InProcessMembers.StartAsync(1, o => o with { DataDir = dataDir }))
            {
                var status = await cluster.Channels[0].UnaryAsync(MaintenanceMethods.Status, new Pb.StatusRequest(), Options);
                Assert.IsGreaterThan(0L, status.DbSize, status.ToString());
                Assert.AreEqual(status.DbSize, status.DbSizeInUse, "nothing was compacted: every byte is in use");
                Assert.IsLessThanOrEqualTo(DirectoryBytes(dataDir), status.DbSize, "dbSize counts only files under the data dir");
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [TestMethod]
    public void BackendFiles_SumsEveryFileBelowTheDirectory_AndAMissingDirectoryIsZero()
    {
        var root = Directory.CreateTempSubdirectory("curpstore-backend-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(root, "a"), new byte[100]);
            Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
            File.WriteAllBytes(Path.Combine(root, "sub", "deeper", "b"), new byte[23]);
            File.WriteAllBytes(Path.Combine(root, "sub", "empty"), []);
            Assert.AreEqual(123L, BackendFiles.SizeBytes(root));
            Assert.AreEqual(0L, BackendFiles.SizeBytes(Path.Combine(root, "missing")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static long DirectoryBytes(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(file => file.Length);
}
