using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CurpStore.Server.Tests.Processes;

namespace CurpStore.Server.Tests.Compat;

/// <summary>A cluster's member ids, cluster id and member URLs, read with <c>etcdctl member list -w json</c>, and the
/// replacement of each (hex or decimal) by a name that is the same on both sides: <c>&lt;m1&gt;</c>,
/// <c>&lt;cluster&gt;</c>, <c>&lt;m1-client&gt;</c>, <c>&lt;m1-peer&gt;</c>. Client URLs come from the endpoints the
/// members were started with (member i + 1 serves endpoint i), since CurpStore lists only the answering member's.</summary>
internal sealed class ClusterIdentities
{
    private readonly List<(Regex Pattern, string Name)> replacements = [];

    public static async Task<ClusterIdentities> ReadAsync(IReadOnlyList<string> endpoints)
    {
        var (exitCode, output) = await Etcdctl.RunAsync(endpoints[0], ["member", "list", "-w", "json"]);
        Assert.AreEqual(0, exitCode, output);
        using var json = JsonDocument.Parse(output);
        var identities = new ClusterIdentities();
        identities.AddId(json.RootElement.GetProperty("header").GetProperty("cluster_id").GetUInt64(), "<cluster>");
        foreach (var member in json.RootElement.GetProperty("members").EnumerateArray())
        {
            var name = member.GetProperty("name").GetString()!;
            identities.AddId(member.GetProperty("ID").GetUInt64(), $"<{name}>");
            foreach (var url in member.GetProperty("peerURLs").EnumerateArray())
            {
                identities.replacements.Add((new Regex(Regex.Escape(url.GetString()!)), $"<{name}-peer>"));
            }
        }
        for (var i = 0; i < endpoints.Count; i++)
        {
            identities.replacements.Add((new Regex(Regex.Escape(endpoints[i])), $"<m{i + 1}-client>"));
        }
        return identities;
    }

    public string Replace(string text)
    {
        foreach (var (pattern, name) in replacements)
        {
            text = pattern.Replace(text, name);
        }
        return text;
    }

    private void AddId(ulong id, string name)
    {
        replacements.Add((new Regex($@"\b{id.ToString("x", CultureInfo.InvariantCulture)}\b"), name));
        replacements.Add((new Regex($@"\b{id.ToString(CultureInfo.InvariantCulture)}\b"), name));
    }
}
