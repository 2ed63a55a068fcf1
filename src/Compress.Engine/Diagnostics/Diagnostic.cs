using System.Globalization;
using System.Text;

namespace Compress.Engine.Diagnostics;

/// <summary>How serious a <see cref="Diagnostic"/> is.</summary>
public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>An error or warning in the one-line canonical format <c>origin(line,col): severity CODE: text</c>.</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, string Code, string Message, string? FilePath = null,
    string? Hint = null, int? Line = null, int? Column = null)
{
    public static Diagnostic Error(string code, string message, string? path = null, string? hint = null, int? line = null,
        int? column = null) => new(DiagnosticSeverity.Error, code, message, path, hint, line, column);

    public static Diagnostic Warning(string code, string message, string? path = null, string? hint = null) =>
        new(DiagnosticSeverity.Warning, code, message, path, hint);

    /// <summary><c>file(line,col): error CMP0101: message. hint</c>; the origin is <c>compress</c> without a file.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        sb.Append(FilePath ?? "compress");
        if (Line is int line)
        {
            sb.Append('(').Append(line.ToString(CultureInfo.InvariantCulture));
            if (Column is int col) sb.Append(',').Append(col.ToString(CultureInfo.InvariantCulture));
            sb.Append(')');
        }
        sb.Append(": ").Append(Severity == DiagnosticSeverity.Error ? "error " : "warning ").Append(Code).Append(": ");
        sb.Append(Message.Replace('\n', ' '));
        if (!string.IsNullOrEmpty(Hint)) sb.Append(' ').Append(Hint.Replace('\n', ' '));
        return sb.ToString();
    }
}
