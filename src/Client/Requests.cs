namespace CurpStore.Client;

/// <summary>Builds the store's request records from the client's options (the same records the server builds from
/// etcd's messages, so both encode to the same bytes).</summary>
internal static class Requests
{
    public static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text)));

    public static Store.RangeRequest Range(byte[] key, GetOptions options) => new()
    {
        Key = EffectiveKey(key, options.RangeEnd, options.Prefix, options.FromKey),
        RangeEnd = RangeEnd(key, options.RangeEnd, options.Prefix, options.FromKey),
        Limit = options.Limit,
        Revision = options.Revision,
        Serializable = options.Serializable,
        KeysOnly = options.KeysOnly,
        CountOnly = options.CountOnly,
        SortOrder = options.SortOrder,
        SortTarget = options.SortTarget,
    };

    public static Store.PutRequest Put(byte[] key, byte[] value, PutOptions options) => new()
    {
        Key = key ?? throw new ArgumentNullException(nameof(key)),
        Value = value ?? throw new ArgumentNullException(nameof(value)),
        Lease = options.Lease,
        PrevKv = options.PrevKv,
        IgnoreValue = options.IgnoreValue,
        IgnoreLease = options.IgnoreLease,
    };

    public static Store.DeleteRangeRequest Delete(byte[] key, DeleteOptions options) => new()
    {
        Key = EffectiveKey(key, options.RangeEnd, options.Prefix, options.FromKey),
        RangeEnd = RangeEnd(key, options.RangeEnd, options.Prefix, options.FromKey),
        PrevKv = options.PrevKv,
    };

    /// <summary>clientv3 turns a prefix or from-key range on the empty key into "every key": key "\0".</summary>
    public static byte[] EffectiveKey(byte[] key, byte[]? rangeEnd, bool prefix, bool fromKey) =>
        key.Length == 0 && rangeEnd is null && (prefix || fromKey) ? [0] : key;

    /// <summary>etcd's range_end conventions: empty = the key alone, "\0" = every key from it on, a prefix = the key
    /// with its last byte below 0xff incremented (clientv3's GetPrefixRangeEnd; all 0xff = from the key on).</summary>
    public static byte[] RangeEnd(byte[] key, byte[]? rangeEnd, bool prefix, bool fromKey)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (rangeEnd is not null)
        {
            return rangeEnd;
        }
        if (fromKey || (prefix && key.Length == 0))
        {
            return [0];
        }
        if (!prefix)
        {
            return [];
        }
        for (var i = key.Length - 1; i >= 0; i--)
        {
            if (key[i] < 0xff)
            {
                var end = key[..(i + 1)];
                end[i]++;
                return end;
            }
        }
        return [0];
    }
}
