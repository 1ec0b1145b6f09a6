using System.Globalization;

namespace CurpStore.Wal;

/// <summary>
/// Bookkeeping for one segment file <c>wal-&lt;16 hex digits of the first index&gt;.log</c>. The name carries the
/// first record's index so that finding the segment of an index, and prefix truncation, need no file reads; it is
/// checked against the first record at open.
/// </summary>
/// <remarks>Not thread-safe: owned by <see cref="WriteAheadLog"/> under its I/O lock.</remarks>
internal sealed class Segment(string path, long firstIndex)
{
    private const string Prefix = "wal-";
    private const string Suffix = ".log";

    public string Path { get; } = path;

    /// <summary>Index of the first record, from the file name.</summary>
    public long FirstIndex { get; } = firstIndex;

    /// <summary>Index of the last record written to it, or -1 while it holds none.</summary>
    public long LastIndex { get; set; } = -1;

    /// <summary>Bytes of whole records in the file (records still in the writer's staging buffer not counted).</summary>
    public long LengthBytes { get; set; }

    public static string FileName(long firstIndex) => $"{Prefix}{firstIndex:x16}{Suffix}";

    /// <summary>Whether the name looks like a segment at all (so that a damaged or foreign name is reported, not
    /// ignored).</summary>
    public static bool LooksLikeSegment(string fileName) =>
        fileName.StartsWith(Prefix, StringComparison.Ordinal) && fileName.EndsWith(Suffix, StringComparison.Ordinal);

    public static bool TryParseFileName(string fileName, out long firstIndex)
    {
        firstIndex = 0;
        if (!LooksLikeSegment(fileName) || fileName.Length != Prefix.Length + 16 + Suffix.Length)
        {
            return false;
        }
        var hex = fileName.AsSpan(Prefix.Length, 16);
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstIndex) && firstIndex >= 0;
    }
}
