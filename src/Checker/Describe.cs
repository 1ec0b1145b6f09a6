using System.Globalization;
using System.Text;

namespace CurpStore.Checker;

/// <summary>
/// Formatting of operations for violation reports. Reports are read by a person chasing a bug in a
/// long simulator trace, so every operation is rendered with its id, client, answer and interval,
/// which is what is needed to find it again in the trace.
/// </summary>
internal static class Describe
{
    public static string Value(string? value) => value is null ? "<absent>" : "'" + value + "'";

    public static string Op(HistoryOperation op)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"#{op.Id} (client {op.Client}) ");
        bool answered = op.CompleteTime.HasValue;
        switch (op.Kind)
        {
            case OperationKind.Put:
                sb.Append("Put ").Append(Value(op.Value));
                if (answered)
                {
                    sb.Append(CultureInfo.InvariantCulture, $" -> rev {op.ModRevision}");
                }

                break;
            case OperationKind.Get:
                sb.Append("Get");
                if (answered)
                {
                    sb.Append(" -> ").Append(Value(op.ReadValue))
                        .Append(CultureInfo.InvariantCulture, $" mod_rev {op.ModRevision}");
                }

                break;
            case OperationKind.Delete:
                sb.Append("Delete");
                if (answered)
                {
                    sb.Append(op.Succeeded
                        ? string.Create(CultureInfo.InvariantCulture, $" -> deleted rev {op.ModRevision}")
                        : " -> not found");
                }

                break;
            case OperationKind.CompareAndSwap:
                sb.Append("CAS ").Append(Value(op.Expected)).Append(" => ").Append(Value(op.Value));
                if (answered)
                {
                    sb.Append(op.Succeeded
                        ? string.Create(CultureInfo.InvariantCulture, $" -> swapped rev {op.ModRevision}")
                        : " -> not swapped");
                }

                break;
        }

        if (answered)
        {
            sb.Append(CultureInfo.InvariantCulture, $" header {op.HeaderRevision}");
        }
        else
        {
            sb.Append(" -> no answer");
        }

        sb.Append(CultureInfo.InvariantCulture, $" [{op.InvokeTime}, ");
        sb.Append(answered ? op.CompleteTime!.Value.ToString(CultureInfo.InvariantCulture) : "never");
        sb.Append(']');
        return sb.ToString();
    }
}
