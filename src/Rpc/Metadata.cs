using System.Collections;
using System.Collections.Frozen;

namespace CurpStore.Rpc;

/// <summary>
/// gRPC metadata: the custom headers of a request, and the custom headers and trailers of a response. Keys are
/// lower-case; a key ending in <c>-bin</c> holds bytes (base64 on the wire), any other key holds printable ASCII.
/// Keys that the protocol itself uses (<c>content-type</c>, <c>grpc-timeout</c>, <c>grpc-status</c>, pseudo-headers,
/// HTTP/2 connection headers, ...) are never exposed and cannot be added, so handlers cannot break the framing.
/// </summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    /// <summary>The key suffix that marks a binary value.</summary>
    public const string BinaryHeaderSuffix = "-bin";

    /// <summary>Headers owned by HTTP/2 or by the gRPC protocol itself.</summary>
    internal static readonly FrozenSet<string> ReservedKeys = FrozenSet.ToFrozenSet(
    [
        "content-type", "content-length", "te", "host", "connection", "keep-alive", "proxy-connection",
        "transfer-encoding", "upgrade", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status",
        "grpc-message", "grpc-status-details-bin", "grpc-message-type",
    ]);

    private readonly List<Entry> _entries = [];

    /// <summary>The number of entries (a key may occur more than once).</summary>
    public int Count => _entries.Count;

    /// <summary>Adds an ASCII entry.</summary>
    /// <exception cref="ArgumentException">The key is invalid, reserved or binary, or the value is not printable ASCII.</exception>
    public Metadata Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string normalized = NormalizeKey(key);
        if (normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"metadata key \"{normalized}\" ends in -bin and takes a byte[] value", nameof(key));
        }

        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException($"metadata value of \"{normalized}\" must be printable ASCII", nameof(value));
            }
        }

        _entries.Add(new Entry(normalized, value, null));
        return this;
    }

    /// <summary>Adds a binary entry; the key must end in <c>-bin</c>.</summary>
    /// <exception cref="ArgumentException">The key is invalid, reserved or not binary.</exception>
    public Metadata Add(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string normalized = NormalizeKey(key);
        if (!normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"metadata key \"{normalized}\" takes a byte[] value only if it ends in -bin", nameof(key));
        }

        _entries.Add(new Entry(normalized, null, value));
        return this;
    }

    /// <summary>The first ASCII value of a key, or null.</summary>
    public string? GetValue(string key)
    {
        string normalized = key.ToLowerInvariant();
        foreach (Entry entry in _entries)
        {
            if (entry.Key == normalized && !entry.IsBinary)
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>The first binary value of a key, or null.</summary>
    public byte[]? GetValueBytes(string key)
    {
        string normalized = key.ToLowerInvariant();
        foreach (Entry entry in _entries)
        {
            if (entry.Key == normalized && entry.IsBinary)
            {
                return entry.ValueBytes;
            }
        }

        return null;
    }

    /// <summary>All entries of a key, in order.</summary>
    public IEnumerable<Entry> GetAll(string key)
    {
        string normalized = key.ToLowerInvariant();
        return _entries.Where(entry => entry.Key == normalized);
    }

    /// <inheritdoc/>
    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Whether a header received on the wire belongs in metadata (not a pseudo, protocol or HTTP/2 header).</summary>
    internal static bool IsExposedHeader(string key) => key.Length > 0 && key[0] != ':' && !ReservedKeys.Contains(key.ToLowerInvariant());

    /// <summary>Adds an entry received on the wire; binary values are base64, padded or not, possibly comma-separated.</summary>
    /// <exception cref="FormatException">A binary value is not valid base64.</exception>
    internal void AddFromWire(string key, string value)
    {
        string normalized = key.ToLowerInvariant();
        if (!normalized.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal))
        {
            _entries.Add(new Entry(normalized, value, null));
            return;
        }

        foreach (string part in value.Split(','))
        {
            _entries.Add(new Entry(normalized, null, DecodeBase64(part.Trim())));
        }
    }

    /// <summary>The value to put on the wire: ASCII as is, bytes as unpadded base64 (what the gRPC spec says to emit).</summary>
    internal static string ToWireValue(Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes!).TrimEnd('=') : entry.Value!;

    private static byte[] DecodeBase64(string text)
    {
        int padding = (4 - (text.Length % 4)) % 4;
        if (padding == 3)
        {
            throw new FormatException("illegal base64 data: bad length");
        }

        return Convert.FromBase64String(padding == 0 ? text : text + new string('=', padding));
    }

    private static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        string normalized = key.ToLowerInvariant();
        foreach (char c in normalized)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                throw new ArgumentException($"metadata key \"{key}\" may hold only 0-9 a-z - _ .", nameof(key));
            }
        }

        if (ReservedKeys.Contains(normalized))
        {
            throw new ArgumentException($"metadata key \"{normalized}\" is reserved by the gRPC protocol", nameof(key));
        }

        return normalized;
    }

    /// <summary>One metadata entry: a key and either an ASCII or a binary value.</summary>
    public sealed class Entry
    {
        internal Entry(string key, string? value, byte[]? valueBytes)
        {
            Key = key;
            Value = value;
            ValueBytes = valueBytes;
        }

        /// <summary>The lower-case key.</summary>
        public string Key { get; }

        /// <summary>The ASCII value, or null for a binary entry.</summary>
        public string? Value { get; }

        /// <summary>The binary value, or null for an ASCII entry.</summary>
        public byte[]? ValueBytes { get; }

        /// <summary>Whether the key ends in <c>-bin</c> and the value is bytes.</summary>
        public bool IsBinary => ValueBytes is not null;

        /// <inheritdoc/>
        public override string ToString() => IsBinary ? $"{Key}: {Convert.ToBase64String(ValueBytes!)}" : $"{Key}: {Value}";
    }
}
