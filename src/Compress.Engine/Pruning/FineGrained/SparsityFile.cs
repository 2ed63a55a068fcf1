using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// The per-layer sparsity file: one JSON object mapping parameter names to sparsities,
/// <c>{"conv1.weight": 0.5, "layer1.0.conv1.weight": 0.7}</c>, the input of <see cref="LayerwiseMagnitudePruner"/> and
/// the output of <see cref="SparsityProposal"/>. Comments and trailing commas are allowed, as in the build spec. Errors
/// carry the file, line and column: CMP0752 for broken JSON, CMP0753 for a root that is not an object, a value that is
/// not a number or a name given twice, CMP0751 for a sparsity outside [0, 1]. Whether the names exist in a model is
/// checked when the file is used (<see cref="LayerwiseMagnitudePruner.Compute"/>, CMP0750).
/// </summary>
public static class SparsityFile
{
    private const string Example = "Write one object: {\"layer1.0.conv1.weight\": 0.6, \"fc.weight\": 0.8}.";

    /// <summary>Reads <paramref name="path"/> (CMP0005 when it does not exist); names keep the file's order.</summary>
    public static IReadOnlyDictionary<string, double> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CompressException(DiagnosticCode.FileNotFound, $"Sparsity file '{full}' does not exist.", full, "Check the path.");
        return Parse(full, File.ReadAllBytes(full));
    }

    /// <summary>Parses <paramref name="utf8"/> as the sparsity file <paramref name="path"/> (used in messages only).</summary>
    public static IReadOnlyDictionary<string, double> Parse(string path, ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
        Utf8Input.Check(utf8, DiagnosticCode.SparsityFileSyntaxError, path, "sparsity file");
        var lines = new LineIndex(utf8);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read())
                throw new CompressException(DiagnosticCode.SparsityFileSyntaxError, "The sparsity file is empty.", path, Example) { Line = 1, Column = 1 };
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Invalid(path, lines, reader.TokenStartIndex, $"The sparsity file must be a JSON object, not {Describe(reader.TokenType)}.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                long nameAt = reader.TokenStartIndex;
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number)
                    throw Invalid(path, lines, reader.TokenStartIndex, $"The sparsity of '{name}' is {Describe(reader.TokenType)}; it must be a number.");
                var (line, column) = lines.Locate(reader.TokenStartIndex);
                double sparsity = reader.TryGetDouble(out double value) ? value : double.NaN;
                LayerwiseMagnitudePruner.ValidateSparsity(name, sparsity, path, line, column);
                if (!result.TryAdd(name, sparsity))
                    throw Invalid(path, lines, nameAt, $"'{name}' appears twice.");
            }
            // Anything after the closing brace makes the reader throw (a JSON document holds one value).
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? 0) + 1;
            int column = (int)(e.BytePositionInLine ?? 0) + 1;
            throw new CompressException(DiagnosticCode.SparsityFileSyntaxError, $"The sparsity file is not valid JSON: {StripPosition(e.Message)}",
                path, Example, e) { Line = line, Column = column };
        }
        return result;
    }

    /// <summary>
    /// Writes <paramref name="sparsities"/> as a sparsity file (names verbatim, numbers round-trip exact), through a
    /// temporary file (CMP0004 on failure).
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, double> sparsities)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(sparsities);
        AtomicFile.Write(path, stream =>
        {
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                foreach (var (name, sparsity) in sparsities) json.WriteNumber(name, sparsity);
                json.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        });
    }

    private static CompressException Invalid(string path, LineIndex lines, long offset, string message)
    {
        var (line, column) = lines.Locate(offset);
        return new CompressException(DiagnosticCode.InvalidSparsityFile, message, path, Example) { Line = line, Column = column };
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray or JsonTokenType.EndArray => "an array",
        JsonTokenType.StartObject or JsonTokenType.EndObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "a number",
    };

    private static string StripPosition(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).Trim();
    }

    /// <summary>Byte offset to 1-based line and column (the column counts characters, as editors do).</summary>
    private sealed class LineIndex
    {
        private readonly byte[] _bytes;
        private readonly List<int> _starts = [0];

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            _bytes = utf8.ToArray();
            for (int i = 0; i < _bytes.Length; i++)
            {
                if (_bytes[i] == (byte)'\n') _starts.Add(i + 1);
            }
        }

        public (int Line, int Column) Locate(long offset)
        {
            int index = _starts.BinarySearch((int)Math.Min(offset, _bytes.Length));
            int line = index >= 0 ? index : ~index - 1;
            int column = 1;
            for (long i = _starts[line]; i < offset && i < _bytes.Length; i++)
            {
                if ((_bytes[i] & 0xC0) != 0x80) column++;
            }
            return (line + 1, column);
        }
    }
}
