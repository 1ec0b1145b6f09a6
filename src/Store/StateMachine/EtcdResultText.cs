using System.Globalization;
using System.Text;
using CurpStore.Curp;

namespace CurpStore.Store;

/// <summary>
/// A canonical, complete text form of any answer the state machine gives. Two answers are equal exactly when their
/// texts are: this is how a speculated answer is checked against the applied one (responses hold byte arrays and
/// lists, so record equality would compare references). Also readable in test failures.
/// </summary>
public static class EtcdResultText
{
    public static bool Equal(ICommandResult? left, ICommandResult? right) => Render(left) == Render(right);

    public static string Render(ICommandResult? result)
    {
        var text = new StringBuilder();
        Append(text, result);
        return text.ToString();
    }

    private static void Append(StringBuilder text, ICommandResult? result)
    {
        switch (result)
        {
            case null:
                text.Append("null");
                break;
            case EtcdError error:
                text.Append("error(").Append(error.Code).Append(", ").Append(error.Message).Append(')');
                break;
            case RangeResponse range:
                Header(text, "range", range).Append(" count=").Append(range.Count).Append(" more=").Append(range.More);
                KeyValues(text, range.Kvs);
                break;
            case PutResponse put:
                Header(text, "put", put).Append(" prev=");
                KeyValue(text, put.PrevKv);
                break;
            case DeleteRangeResponse delete:
                Header(text, "delete", delete).Append(" deleted=").Append(delete.Deleted).Append(" prev=");
                KeyValues(text, delete.PrevKvs);
                break;
            case TxnResponse txn:
                Header(text, "txn", txn).Append(" succeeded=").Append(txn.Succeeded).Append(" [");
                foreach (var op in txn.Responses)
                {
                    Append(text, (ICommandResult?)op.ResponseRange ?? (ICommandResult?)op.ResponsePut
                        ?? (ICommandResult?)op.ResponseDeleteRange ?? op.ResponseTxn);
                    text.Append("; ");
                }
                text.Append(']');
                break;
            case LeaseGrantResponse grant:
                Header(text, "lease-grant", grant).Append(" id=").Append(grant.Id).Append(" ttl=").Append(grant.TtlSeconds);
                break;
            case AuthStatusResponse status:
                Header(text, "auth-status", status).Append(" enabled=").Append(status.Enabled).Append(" revision=").Append(status.AuthRevision);
                break;
            case AuthenticateResponse authenticate:
                Header(text, "authenticate", authenticate).Append(" user=").Append(authenticate.User)
                    .Append(" revision=").Append(authenticate.AuthRevision).Append(" token=").Append(authenticate.Token);
                break;
            case AuthNamesResponse names:
                Header(text, "auth-names", names).Append(" [").AppendJoin(", ", names.Names).Append(']');
                break;
            case RoleGetResponse role:
                Header(text, "role", role).Append(" [");
                foreach (var permission in role.Permissions)
                {
                    text.Append(permission.Type).Append(' ').Append(Convert.ToHexString(permission.Key)).Append('-')
                        .Append(Convert.ToHexString(permission.RangeEnd)).Append("; ");
                }
                text.Append(']');
                break;
            case AlarmResponse alarm:
                Header(text, "alarm", alarm).Append(" [").AppendJoin(", ", alarm.Alarms.Select(a => $"{a.MemberId:x}:{a.Alarm}")).Append(']');
                break;
            case EtcdResponse other:
                Header(text, other.GetType().Name, other);
                break;
            default:
                text.Append(result.GetType().Name);
                break;
        }
    }

    private static StringBuilder Header(StringBuilder text, string name, EtcdResponse response) =>
        text.Append(name).Append("@").Append(response.Header.Revision);

    private static void KeyValues(StringBuilder text, IReadOnlyList<KeyValue> kvs)
    {
        text.Append(" {");
        foreach (var kv in kvs)
        {
            KeyValue(text, kv);
            text.Append(' ');
        }
        text.Append('}');
    }

    private static void KeyValue(StringBuilder text, KeyValue? kv)
    {
        if (kv is null)
        {
            text.Append('-');
            return;
        }
        text.Append(Convert.ToHexString(kv.Key)).Append('=').Append(Convert.ToHexString(kv.Value))
            .Append(string.Create(CultureInfo.InvariantCulture, $"(c{kv.CreateRevision} m{kv.ModRevision} v{kv.Version} l{kv.Lease})"));
    }
}
