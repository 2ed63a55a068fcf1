namespace Compress.Engine.Diagnostics;

/// <summary>
/// A user-facing error with a stable code (<see cref="DiagnosticCode"/>), the file it concerns and what to do.
/// Formatted as <c>path(line,col): error CMPxxxx: message</c>, the shape MSBuild and editors understand.
/// </summary>
public sealed class CompressException : Exception
{
    public CompressException(string code, string message, string? path = null, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        FilePath = path;
        Hint = hint;
    }

    /// <summary>The stable code, e.g. <c>CMP0101</c>.</summary>
    public string Code { get; }

    /// <summary>The file or folder concerned, if any.</summary>
    public string? FilePath { get; }

    /// <summary>What the user can do about it.</summary>
    public string? Hint { get; }

    /// <summary>Optional line (1-based) in <see cref="FilePath"/>.</summary>
    public int? Line { get; init; }

    /// <summary>Optional column (1-based) in <see cref="FilePath"/>.</summary>
    public int? Column { get; init; }

    /// <summary>The canonical one-line form.</summary>
    public string Format() => Diagnostic.Error(Code, Message, FilePath, Hint, Line, Column).Format();

    public override string ToString() => Format();
}
