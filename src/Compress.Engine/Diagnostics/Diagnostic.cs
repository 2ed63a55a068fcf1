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
        sb.Append(FilePath is null ? "compress" : OneLine(FilePath));
        if (Line is int line)
        {
            sb.Append('(').Append(line.ToString(CultureInfo.InvariantCulture));
            if (Column is int col) sb.Append(',').Append(col.ToString(CultureInfo.InvariantCulture));
            sb.Append(')');
        }
        sb.Append(": ").Append(Severity == DiagnosticSeverity.Error ? "error " : "warning ").Append(Code).Append(": ");
        sb.Append(OneLine(Message));
        if (!string.IsNullOrEmpty(Hint)) sb.Append(' ').Append(OneLine(Hint));
        return sb.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> on one line: line breaks and tabs (System.CommandLine separates the allowed values of an
    /// option with tabs) become spaces, and every other control or line-separator
    /// character (\r, \u0085, \u2028, \u2029 ...) is written as \uXXXX, so text from user input (a spec's name, a
    /// path) can never start a second line that a line-based reader (the MSBuild task) would take for a diagnostic.
    /// </summary>
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029')) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c is '\n' or '\t') sb.Append(' ');
            else if (char.IsControl(c) || c is '\u2028' or '\u2029') sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
