using System.Buffers;
using System.Text;

namespace Compress.Engine.Diagnostics;

/// <summary>
/// Finds the first byte that is not valid UTF-8 in a JSON input (a spec, a sparsity file, a plan, a safetensors header, a
/// report), so the parser can report it with its position instead of failing later in a string conversion (which
/// System.Text.Json reports as an InvalidOperationException, not a JsonException).
/// </summary>
public static class Utf8Input
{
    /// <summary>The position of the first invalid or truncated UTF-8 sequence, or null when all of it is valid.</summary>
    /// <returns>The byte offset, and its 1-based line and column (columns count characters, as editors do).</returns>
    public static (long Offset, int Line, int Column)? FirstInvalid(ReadOnlySpan<byte> utf8)
    {
        if (System.Text.Unicode.Utf8.IsValid(utf8)) return null;
        int line = 1, column = 1;
        int i = 0;
        while (i < utf8.Length)
        {
            if (Rune.DecodeFromUtf8(utf8[i..], out var rune, out int consumed) != OperationStatus.Done) return (i, line, column);
            if (rune.Value == '\n') (line, column) = (line + 1, 1);
            else column++;
            i += consumed;
        }
        return null;
    }

    /// <summary>Throws <paramref name="code"/> at the first invalid byte of <paramref name="utf8"/>, if any.</summary>
    public static void Check(ReadOnlySpan<byte> utf8, string code, string path, string what, long offsetBase = 0)
    {
        if (FirstInvalid(utf8) is not var (offset, line, column)) return;
        throw new CompressException(code, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The {what} is not valid UTF-8: byte {offset + offsetBase} (0x{utf8[(int)offset]:X2}) at line {line}, column {column} does not start a valid character."),
            path, "Save the file as UTF-8 (JSON text must be UTF-8); the byte is often a Latin-1 or Windows-1252 character, or the file was cut short.")
        { Line = line, Column = column };
    }
}
