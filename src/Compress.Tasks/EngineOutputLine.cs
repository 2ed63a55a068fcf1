using System.Globalization;
using System.Text.RegularExpressions;

namespace Compress.Tasks;

/// <summary>
/// One line of the engine's output, parsed: either a diagnostic in the canonical
/// <c>origin(line,col): error CODE: text</c> form (origin is a file, or <c>compress</c> for no file) or plain progress.
/// </summary>
internal sealed class EngineOutputLine
{
    // origin, optional (line[,col[,endLine,endCol]]), then ": error|warning CODE: text". The origin is lazy so that a
    // Windows drive colon (C:\x) is not taken for the separator.
    private static readonly Regex Canonical = new(
        @"^\s*(?<origin>.+?)(?:\((?<line>\d+)(?:,(?<col>\d+))?(?:,(?<endLine>\d+),(?<endCol>\d+))?\))?\s*:\s*(?<severity>error|warning)\s+(?<code>[A-Za-z]+\d+)\s*:\s*(?<text>.*)$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture,
        TimeSpan.FromSeconds(1));

    private EngineOutputLine(bool isDiagnostic, bool isError, string code, string file, int line, int column,
        int endLine, int endColumn, string text)
    {
        IsDiagnostic = isDiagnostic;
        IsError = isError;
        Code = code;
        File = file;
        Line = line;
        Column = column;
        EndLine = endLine;
        EndColumn = endColumn;
        Text = text;
    }

    /// <summary>True for an error or warning line; false for progress.</summary>
    public bool IsDiagnostic { get; }
    /// <summary>True for an error, false for a warning.</summary>
    public bool IsError { get; }
    /// <summary>The code (CMPxxxx), or empty.</summary>
    public string Code { get; }
    /// <summary>The file the diagnostic is about, or empty when the origin is the tool itself.</summary>
    public string File { get; }
    /// <summary>1-based line, or 0 when absent.</summary>
    public int Line { get; }
    /// <summary>1-based column, or 0 when absent.</summary>
    public int Column { get; }
    /// <summary>End line, or 0.</summary>
    public int EndLine { get; }
    /// <summary>End column, or 0.</summary>
    public int EndColumn { get; }
    /// <summary>The message (or the whole line for progress).</summary>
    public string Text { get; }

    /// <summary>Parses one output line; anything that is not a canonical diagnostic is progress.</summary>
    public static EngineOutputLine Parse(string line, string toolName)
    {
        var match = Canonical.Match(line);
        if (!match.Success)
        {
            return new EngineOutputLine(false, false, string.Empty, string.Empty, 0, 0, 0, 0, line);
        }
        var origin = match.Groups["origin"].Value.Trim();
        var hasPosition = match.Groups["line"].Success;
        // "compress: error ..." names the tool, not a file.
        var file = !hasPosition && (string.Equals(origin, toolName, StringComparison.OrdinalIgnoreCase)
            || string.Equals(origin, "compress", StringComparison.OrdinalIgnoreCase)) ? string.Empty : origin;
        return new EngineOutputLine(
            true,
            string.Equals(match.Groups["severity"].Value, "error", StringComparison.Ordinal),
            match.Groups["code"].Value,
            file,
            Number(match, "line"),
            Number(match, "col"),
            Number(match, "endLine"),
            Number(match, "endCol"),
            match.Groups["text"].Value.Trim());
    }

    private static int Number(Match match, string group) =>
        match.Groups[group].Success ? int.Parse(match.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
}
