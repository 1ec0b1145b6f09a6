using FASTER.core;

namespace CurpStore.Store.Faster;

/// <summary>
/// FASTER's callbacks for the record store: writes copy the value bytes (the base class), reads decode the record
/// straight out of the log into a <see cref="KvRecord"/>, so no intermediate buffer is rented or copied. The context
/// is the position of the read in its batch, which lets a scan put reads that completed from disk back in order.
/// </summary>
internal sealed class RecordFunctions : SpanByteFunctions<SpanByte, KvRecord?, int>
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
}
