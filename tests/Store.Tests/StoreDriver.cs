using System.Text;
using CurpStore.Curp;

namespace CurpStore.Store.Tests;

/// <summary>Drives one state machine the way the core does: every write gets the next log index and a fresh propose
/// id; reads go through <see cref="EtcdStateMachine.Read(EtcdRequest)"/>. Assertion helpers print the whole answer on
/// failure.</summary>
internal sealed class StoreDriver
{
    private ulong sequence;

    public StoreDriver(IKvEngine engine, EtcdStoreOptions? options = null)
    {
        Engine = engine;
        Machine = new EtcdStateMachine(engine, options);
        NextIndex = Machine.AppliedIndex + 1;
    }

    public IKvEngine Engine { get; }

    public EtcdStateMachine Machine { get; }

    public ulong NextIndex { get; set; }

    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    public static string S(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public EtcdCommand Command(EtcdRequest request) => new(new ProposeId(1, ++sequence), request);

    public ICommandResult Apply(EtcdRequest request) => Machine.Apply(Command(request), NextIndex++);

    public T Ok<T>(EtcdRequest request)
        where T : EtcdResponse => As<T>(Apply(request));

    public EtcdError Fail(EtcdRequest request) => As<EtcdError>(Apply(request));

    public PutResponse Put(string key, string value, long lease = 0) => Ok<PutResponse>(new PutRequest { Key = B(key), Value = B(value), Lease = lease });

    public DeleteRangeResponse Delete(string key, string? rangeEnd = null) =>
        Ok<DeleteRangeResponse>(new DeleteRangeRequest { Key = B(key), RangeEnd = rangeEnd is null ? [] : B(rangeEnd) });

    public RangeResponse Range(RangeRequest request) => As<RangeResponse>(Machine.Read(request));

    public EtcdError RangeFails(RangeRequest request) => As<EtcdError>(Machine.Read(request));

    public RangeResponse Get(string key, long revision = 0) => Range(new RangeRequest { Key = B(key), Revision = revision });

    public KeyValue? GetKv(string key, long revision = 0) => Get(key, revision).Kvs.SingleOrDefault();

    public long Grant(long ttlSeconds, long id = 0) => Ok<LeaseGrantResponse>(new LeaseGrantRequest { TtlSeconds = ttlSeconds, Id = id }).Id;

    public static T As<T>(ICommandResult result)
        where T : class, ICommandResult =>
        result as T ?? throw new AssertFailedException($"expected {typeof(T).Name}, got {EtcdResultText.Render(result)}");

    public static List<string> Keys(IEnumerable<KeyValue> kvs) => [.. kvs.Select(kv => S(kv.Key))];

    /// <summary>A watch event with every field spelled out (record ToString would print byte arrays as type names).</summary>
    public static string Text(WatchEvent e) => $"{e.Type} {Text(e.Kv)} prev={(e.PrevKv is null ? "-" : Text(e.PrevKv))}";

    public static string Text(KeyValue kv) => $"{S(kv.Key)}={S(kv.Value)}(c{kv.CreateRevision} m{kv.ModRevision} v{kv.Version} l{kv.Lease})";
}
