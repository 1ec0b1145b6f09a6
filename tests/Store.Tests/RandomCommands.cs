namespace CurpStore.Store.Tests;

/// <summary>
/// Random etcd requests over a tiny key space, so that commands collide, overwrite, delete and depend on each other:
/// puts (with leases, prev_kv, ignore_value), single/range/from-key deletes, txns with compares on every target and
/// nested txns, ranges at past, compacted and future revisions, lease grants (given and chosen ids), revokes,
/// checkpoints and compactions. Some requests fail on purpose (unknown leases, compacted revisions, duplicate keys).
/// <paramref name="withAuth"/> adds auth: user, role and permission changes, enable and disable, authentications, and
/// requests on behalf of users (with current or stale auth revisions, or none), so that permission checks pass and fail.
/// </summary>
internal sealed class RandomCommands(int seed, bool withAuth = false)
{
    private static readonly string[] KeyNames = ["a", "b", "c", "d", "e", "f"];
    private static readonly string[] UserNames = ["root", "u1", "u2"];
    private static readonly string[] RoleNames = ["root", "r1", "r2"];
    private readonly Random random = new(seed);

    /// <summary>About the store's auth revision: one per auth change asked for (some fail, so it runs ahead).</summary>
    private long authRevisionGuess = 1;

    /// <summary>The next request; <paramref name="revision"/> steers revision-dependent requests near the store's.</summary>
    public EtcdRequest Next(long revision)
    {
        if (!withAuth)
        {
            return NextKv(revision);
        }
        if (random.Next(100) < 25)
        {
            return NextAuth();
        }
        var request = NextKv(revision);
        return random.Next(10) switch
        {
            0 => request,
            1 => request with { Auth = RequestAuth.Member },
            _ => request with { Auth = new RequestAuth(UserNames[random.Next(UserNames.Length)], authRevisionGuess - random.Next(0, 3)) },
        };
    }

    /// <summary>The first auth requests make auth enabled (root user with the root role), so that checks matter.</summary>
    private readonly Queue<EtcdRequest> bootstrap = new([
        new UserAddRequest { Name = "root", PasswordHash = "h" },
        new UserGrantRoleRequest { User = "root", Role = "root" },
        new AuthEnableRequest(),
    ]);

    private EtcdRequest NextAuth()
    {
        authRevisionGuess++;
        EtcdRequest request = bootstrap.Count > 0 ? bootstrap.Dequeue() : random.Next(12) switch
        {
            0 => new UserAddRequest { Name = UserNames[random.Next(UserNames.Length)], PasswordHash = "h", NoPassword = random.Next(5) == 0 },
            1 => new UserDeleteRequest { Name = UserNames[random.Next(1, UserNames.Length)] },
            2 or 3 => new UserGrantRoleRequest { User = UserNames[random.Next(UserNames.Length)], Role = RoleNames[random.Next(RoleNames.Length)] },
            4 => new UserRevokeRoleRequest { Name = UserNames[random.Next(UserNames.Length)], Role = RoleNames[random.Next(1, RoleNames.Length)] },
            5 => new RoleAddRequest { Name = RoleNames[random.Next(1, RoleNames.Length)] },
            6 => new RoleDeleteRequest { Role = RoleNames[random.Next(1, RoleNames.Length)] },
            7 or 8 => new RoleGrantPermissionRequest
            {
                Name = RoleNames[random.Next(1, RoleNames.Length)],
                Permission = new AuthPermission((PermissionType)random.Next(3), Key(), random.Next(3) switch { 0 => [], 1 => [0], _ => Key() }),
            },
            9 => new RoleRevokePermissionRequest { Role = RoleNames[random.Next(1, RoleNames.Length)], Key = Key() },
            10 => random.Next(3) == 0 ? new AuthDisableRequest() : new AuthEnableRequest(),
            _ => new AuthenticateRequest { Name = UserNames[random.Next(UserNames.Length)], SimpleTokenPrefix = "p", CheckedRevision = authRevisionGuess - 1 },
        };
        // Mostly as root (so that changes happen while auth is on), sometimes as a user that may not be root.
        return request with { Auth = new RequestAuth(random.Next(4) == 0 ? "u1" : "root", authRevisionGuess - 1) };
    }

    private EtcdRequest NextKv(long revision) => random.Next(100) switch
    {
        < 30 => Put(),
        < 40 => Delete(),
        < 62 => Txn(depth: 0),
        < 72 => Range(revision),
        < 80 => new LeaseGrantRequest { Id = random.Next(3) == 0 ? 0 : random.Next(1, 4), TtlSeconds = random.Next(-1, 30) },
        < 87 => new LeaseRevokeRequest { Id = random.Next(1, 5) },
        < 90 => new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(random.Next(1, 4), random.Next(0, 20))] },
        _ => new CompactionRequest { Revision = revision - random.Next(-1, 6) },
    };

    private byte[] Key() => StoreDriver.B(KeyNames[random.Next(KeyNames.Length)]);

    private PutRequest Put()
    {
        var put = new PutRequest
        {
            Key = Key(),
            Value = StoreDriver.B($"v{random.Next(5)}"),
            Lease = random.Next(4) == 0 ? random.Next(1, 5) : 0,
            PrevKv = random.Next(2) == 0,
        };
        return random.Next(8) == 0 ? put with { Value = [], IgnoreValue = true } : put;
    }

    private DeleteRangeRequest Delete() => random.Next(3) switch
    {
        0 => new DeleteRangeRequest { Key = Key(), PrevKv = true },
        1 => new DeleteRangeRequest { Key = Key(), RangeEnd = Key(), PrevKv = random.Next(2) == 0 },
        _ => new DeleteRangeRequest { Key = Key(), RangeEnd = [0] },
    };

    private RangeRequest Range(long revision) => new()
    {
        Key = Key(),
        RangeEnd = random.Next(2) == 0 ? [] : [0],
        Revision = random.Next(3) == 0 ? revision - random.Next(-1, 8) : 0,
        Limit = random.Next(3),
        SortOrder = (SortOrder)random.Next(3),
        SortTarget = (SortTarget)random.Next(5),
        CountOnly = random.Next(6) == 0,
    };

    private TxnRequest Txn(int depth) => new()
    {
        Compare = [.. Enumerable.Range(0, random.Next(3)).Select(_ => Compare())],
        Success = Ops(depth),
        Failure = Ops(depth),
    };

    private Compare Compare() => new()
    {
        Key = Key(),
        RangeEnd = random.Next(4) == 0 ? [0] : [],
        Target = (CompareTarget)random.Next(5),
        Result = (CompareResult)random.Next(4),
        Version = random.Next(3),
        CreateRevision = random.Next(8),
        ModRevision = random.Next(8),
        Lease = random.Next(3),
        Value = StoreDriver.B($"v{random.Next(5)}"),
    };

    private List<RequestOp> Ops(int depth) => [.. Enumerable.Range(0, random.Next(4)).Select(_ => Op(depth))];

    private RequestOp Op(int depth) => random.Next(10) switch
    {
        < 4 => Put(),
        < 6 => Delete(),
        < 8 => Range(0),
        _ when depth < 2 => Txn(depth + 1),
        _ => new RangeRequest { Key = Key() },
    };
}
