using System.Text;
using BenchmarkDotNet.Attributes;
using CurpStore.Curp;

namespace CurpStore.Bench;

/// <summary>The conflict check every witness and the leader run on every proposal, against pools of growing size.</summary>
[MemoryDiagnoser]
public class ConflictIndexBenchmarks
{
    private ConflictIndex index = null!;
    private ICommand freshKey = null!;
    private ICommand heldKey = null!;
    private ICommand prefixRange = null!;

    [Params(100, 10_000)]
    public int HeldCommands { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        index = new ConflictIndex(HeldCommands + 1);
        for (var i = 0; i < HeldCommands; i++)
        {
            index.Add(new PooledCommand(Command(new ProposeId(1, (ulong)i), KeyRange.Single(Key($"/registry/pods/ns/pod-{i:D6}"))), 0, 0));
        }
        freshKey = Command(new ProposeId(2, 1), KeyRange.Single(Key("/registry/pods/ns/new-pod")));
        heldKey = Command(new ProposeId(2, 2), KeyRange.Single(Key("/registry/pods/ns/pod-000042")));
        prefixRange = Command(new ProposeId(2, 3), KeyRange.Prefix(Key("/registry/services/")));
    }

    [Benchmark(Baseline = true)]
    public bool SingleKeyNoConflict() => index.Conflicts(freshKey);

    [Benchmark]
    public bool SingleKeyConflict() => index.Conflicts(heldKey);

    [Benchmark]
    public bool PrefixRangeNoConflict() => index.Conflicts(prefixRange);

    private static byte[] Key(string key) => Encoding.UTF8.GetBytes(key);

    private static BenchCommand Command(ProposeId id, KeyRange range) => new(id, [range]);

    private sealed record BenchCommand(ProposeId Id, IReadOnlyList<KeyRange> KeyRanges) : ICommand
    {
        public bool IsReadOnly => false;
    }
}
