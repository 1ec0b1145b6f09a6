using System.Buffers.Binary;
using System.Text;

namespace CurpStore.Store.CrashProbe;

/// <summary>
/// The batches the probe commits, a pure function of the log index, so that the test can rebuild the exact state at
/// any index on an in-memory engine and a probe restarted after a crash re-commits what the crash lost (as a server
/// replays its log). Every index puts two records and sets the consistent index; every tenth also deletes records fifty
/// indexes old (compaction: tombstones, and dead records that trigger log compaction); every 250th replaces everything
/// (a snapshot install: FASTER has no clear, so every live record gets a tombstone).
/// </summary>
public static class CrashBatches
{
    public const string ConsistentIndexName = "consistent_index";
    private const int ValueBytes = 2000;
    private const int KeptIndexes = 50;
    private const int CompactEvery = 10;
    private const int ReplaceEvery = 250;

    public static KvWriteBatch For(long index)
    {
        var batch = new KvWriteBatch { ClearFirst = index % ReplaceEvery == 0 };
        if (index % CompactEvery == 0)
        {
            for (var main = index - KeptIndexes - CompactEvery + 1; main <= index - KeptIndexes; main++)
            {
                batch.Deletes.Add(new Revision(main, 0));
                batch.Deletes.Add(new Revision(main, 1));
            }
        }
        batch.Puts.Add(RecordFor(index, 0));
        batch.Puts.Add(RecordFor(index, 1));
        var consistentIndex = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(consistentIndex, index);
        batch.Meta[ConsistentIndexName] = consistentIndex;
        batch.Meta[$"lease/{index % 7}"] = index % 3 == 0 ? null : Encoding.UTF8.GetBytes($"lease set at {index}");
        return batch;
    }

    private static KvRecord RecordFor(long index, long sub)
    {
        var value = new byte[ValueBytes];
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = (byte)((index * 31) + (sub * 7) + i);
        }
        return new KvRecord(new Revision(index, sub), new KeyValue
        {
            Key = Encoding.UTF8.GetBytes($"key-{index % 100}"),
            Value = value,
            CreateRevision = index - (index % 5),
            ModRevision = index,
            Version = (index % 5) + 1,
        }, IsTombstone: sub == 1 && index % 4 == 0);
    }
}
