using System.Text;

namespace CurpStore.Client;

/// <summary>One version of a key, as etcd's mvccpb.KeyValue.</summary>
public sealed class KeyValue
{
    internal KeyValue(Store.KeyValue kv)
    {
        Key = kv.Key;
        Value = kv.Value;
        CreateRevision = kv.CreateRevision;
        ModRevision = kv.ModRevision;
        Version = kv.Version;
        Lease = kv.Lease;
    }

    /// <summary>The key's bytes (do not modify).</summary>
    public byte[] Key { get; }

    /// <summary>The value's bytes (do not modify).</summary>
    public byte[] Value { get; }

    /// <summary>The key as UTF-8 text.</summary>
    public string KeyString => Encoding.UTF8.GetString(Key);

    /// <summary>The value as UTF-8 text.</summary>
    public string ValueString => Encoding.UTF8.GetString(Value);

    /// <summary>The revision of the put that created this generation of the key.</summary>
    public long CreateRevision { get; }

    /// <summary>The revision of the change that produced this version.</summary>
    public long ModRevision { get; }

    /// <summary>Puts since the key was (re)created: 1 after the first put.</summary>
    public long Version { get; }

    /// <summary>The lease the key is attached to, 0 for none.</summary>
    public long Lease { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{KeyString}={ValueString} (create {CreateRevision}, mod {ModRevision}, version {Version}, lease {Lease})";
}
