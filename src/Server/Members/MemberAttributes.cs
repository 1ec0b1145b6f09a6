using System.Text.Json;
using System.Text.Json.Serialization;

namespace CurpStore.Server.Members;

/// <summary>
/// What the cluster knows of one member besides its id, as etcd keeps it (membership.Member): the name and client URLs
/// the member publishes when it starts (empty until then: etcd calls such a member "unstarted") and the peer URLs
/// given when it was added. Stored as JSON in the core's membership attributes, so it travels through the log and
/// snapshots with the configuration it belongs to.
/// </summary>
public sealed record MemberAttributes(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("peerURLs")] IReadOnlyList<string> PeerUrls,
    [property: JsonPropertyName("clientURLs")] IReadOnlyList<string> ClientUrls)
{
    public static MemberAttributes Unstarted(IReadOnlyList<string> peerUrls) => new("", peerUrls, []);

    /// <summary>etcd's IsStarted: the member has published its name.</summary>
    [JsonIgnore]
    public bool IsStarted => Name.Length > 0;

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Reads what <see cref="ToJson"/> wrote; anything else (a member without attributes) is an unstarted
    /// member without URLs.</summary>
    public static MemberAttributes FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return Unstarted([]);
        }
        try
        {
            var read = JsonSerializer.Deserialize<MemberAttributes>(json);
            return read is null ? Unstarted([]) : read with { Name = read.Name ?? "", PeerUrls = read.PeerUrls ?? [], ClientUrls = read.ClientUrls ?? [] };
        }
        catch (JsonException)
        {
            return Unstarted([]);
        }
    }

    /// <summary>A URL as etcd prints it: as given, without a trailing slash.</summary>
    public static string Normalize(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.OriginalString.TrimEnd('/');
    }
}
