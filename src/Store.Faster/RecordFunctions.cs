using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>
/// FASTER's callbacks for the record store: writes copy the value bytes (the base class) and report where each record
/// landed (new records, in-place replacements and compaction's copies alike), reads decode the record straight out of
/// the log into a <see cref="KvRecord"/>, so no intermediate buffer is rented or copied. The context is the position of
/// the read in its batch, which lets a scan put reads that completed from disk back in order.
/// </summary>
internal sealed class RecordFunctions(Action<Revision, long> recordWritten) : SpanByteFunctions<SpanByte, KvRecord?, int>
{
    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref KvRecord? dst, ref ReadInfo readInfo)
    {
        dst = RecordCodec.Decode(RevisionKey.Read(key.AsReadOnlySpan()), value.AsReadOnlySpan());
        return true;
    }

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref KvRecord? dst, ref ReadInfo readInfo)
    {
        dst = RecordCodec.Decode(RevisionKey.Read(key.AsReadOnlySpan()), value.AsReadOnlySpan());
        return true;
    }

    public override void PostSingleWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref KvRecord? output, ref UpsertInfo upsertInfo, WriteReason reason) =>
        recordWritten(RevisionKey.Read(key.AsReadOnlySpan()), upsertInfo.Address);

    public override bool ConcurrentWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref KvRecord? output, ref UpsertInfo upsertInfo)
    {
        if (!base.ConcurrentWriter(ref key, ref input, ref src, ref dst, ref output, ref upsertInfo))
        {
            return false; // FASTER appends a new record instead, reported by PostSingleWriter
        }
        recordWritten(RevisionKey.Read(key.AsReadOnlySpan()), upsertInfo.Address);
        return true;
    }
}
