using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Compress.Engine.Models;

/// <summary>
/// Reader and writer for the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"__metadata__": {..}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..}</c>),
/// then the data section; offsets are relative to the data section. Every structural check reports CMP0103 with the
/// file and the byte offset it concerns.
/// </summary>
internal static class SafetensorsFile
{
    /// <summary>Headers beyond this are rejected as corrupt (the reference implementation's limit is 100 MB).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads every tensor (in header order) and the string metadata.</summary>
    public static (List<(string Key, TensorData Tensor)> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        string file = Reporting.OutputTransaction.ReadPathOf(path);
        if (!File.Exists(file))
            throw new CompressException(DiagnosticCode.FileNotFound, $"Weights file '{path}' does not exist.", path,
                "Check the path.");
        using var handle = File.OpenHandle(file);
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw Corrupt(path, $"file is {fileLength.ToString(CultureInfo.InvariantCulture)} bytes, too short for the " +
                              "8-byte header length at byte offset 0");
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(handle, lengthBytes, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Corrupt(path, $"header length {headerLength.ToString(CultureInfo.InvariantCulture)} at byte offset 0 " +
                              $"runs past the end of the file ({fileLength.ToString(CultureInfo.InvariantCulture)} bytes); " +
                              "the file is truncated or not safetensors");
        if (headerLength > MaxHeaderBytes || headerLength < 2)
            throw Corrupt(path, $"header length {headerLength.ToString(CultureInfo.InvariantCulture)} at byte offset 0 " +
                              "is implausible");
        var header = new byte[headerLength];
        ReadExactly(handle, header, 8);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        var entries = ParseHeader(path, header, dataStart, dataLength, out var metadata);

        // The data of different tensors must not overlap (the format forbids it; overlaps mean a corrupt header).
        var byBegin = entries.OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < byBegin.Count; i++)
        {
            if (byBegin[i].Begin < byBegin[i - 1].End)
                throw Corrupt(path, FormattableString.Invariant(
                    $"tensor '{byBegin[i].Key}' data_offsets [{byBegin[i].Begin}, {byBegin[i].End}] overlap tensor ") +
                    FormattableString.Invariant(
                    $"'{byBegin[i - 1].Key}' [{byBegin[i - 1].Begin}, {byBegin[i - 1].End}] (header at byte offset 8)"));
        }

        var tensors = new List<(string, TensorData)>(entries.Count);
        foreach (var e in entries)
        {
            var data = new byte[e.End - e.Begin];
            ReadExactly(handle, data, dataStart + e.Begin);
            tensors.Add((e.Key, new TensorData(e.DType, e.Shape, data)));
        }
        return (tensors, metadata);
    }

    /// <summary>
    /// Writes tensors in the given order, with <c>__metadata__</c> first (keys sorted ordinally) and the header padded
    /// with spaces to a multiple of 8 bytes, so the same input always gives the same bytes. Goes through a temporary
    /// file in the same folder, then a move, so a failure never leaves a half-written file under <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Key, TensorData Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (key, tensor) in tensors)
            {
                json.WriteStartObject(key);
                json.WriteString("dtype", tensor.DType);
                json.WriteStartArray("shape");
                foreach (long d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Data.Length;
            }
            json.WriteEndObject();
        }
        while (headerStream.Length % 8 != 0) headerStream.WriteByte((byte)' ');

        string fullPath = Path.GetFullPath(path);
        string target = Reporting.AtomicFile.TargetOf(fullPath);
        string temp = Reporting.AtomicFile.TemporaryPathFor(target);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerStream.Length);
                file.Write(lengthBytes);
                headerStream.Position = 0;
                headerStream.CopyTo(file);
                foreach (var (_, tensor) in tensors) file.Write(tensor.Data);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CompressException(DiagnosticCode.OutputWriteFailed,
                $"Could not write weights file '{path}': {e.Message}", path,
                "Check the folder exists and is writable.", e);
        }
    }

    private sealed record Entry(string Key, string DType, long[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(string path, byte[] header, long dataStart, long dataLength,
        out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        // Byte 8 is the header's first (after its 8-byte length).
        if (Utf8Input.FirstInvalid(header) is var (bad, _, _))
            throw Corrupt(path, string.Create(CultureInfo.InvariantCulture,
                $"its JSON header is not valid UTF-8: byte {bad + 8} (0x{header[(int)bad]:X2}) does not start a valid character (a tensor name or metadata value written in another encoding, or a damaged file)"));
        try
        {
            doc = JsonDocument.Parse(header.AsMemory().TrimEnd((byte)' '));
        }
        catch (JsonException e)
        {
            long at = 8 + (e.BytePositionInLine ?? 0);
            // A multi-line header: count bytes of the preceding lines too.
            if (e.LineNumber is long line && line > 0)
            {
                int seen = 0, i = 0;
                for (; i < header.Length && seen < line; i++) if (header[i] == (byte)'\n') seen++;
                at = 8 + i + (e.BytePositionInLine ?? 0);
            }
            throw Corrupt(path, $"header is not valid JSON near byte offset {at.ToString(CultureInfo.InvariantCulture)} " +
                              $"({FirstSentence(e.Message)})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, "header at byte offset 8 is not a JSON object");
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Corrupt(path, $"header at byte offset 8 lists '{property.Name}' twice");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw Corrupt(path, "__metadata__ in the header at byte offset 8 is not an object");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Corrupt(path, $"__metadata__ value '{m.Name}' in the header at byte offset 8 is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, property, dataStart, dataLength));
            }
            return entries;
        }
    }

    private static Entry ParseEntry(string path, JsonProperty property, long dataStart, long dataLength)
    {
        string key = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw Corrupt(path, $"tensor '{key}' in the header at byte offset 8 lacks a valid dtype, shape or data_offsets");

        string dtype = dtypeElement.GetString()!;
        if (!DTypes.TryGetSize(dtype, out int elementSize))
            throw new CompressException(DiagnosticCode.UnsupportedDType,
                $"Tensor '{key}' in '{path}' has unsupported dtype '{dtype}' (supported: {DTypes.SupportedList}).", path,
                "Save float32 (or float16/bfloat16/float64) weights.");

        var shape = new long[shapeElement.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw Corrupt(path, $"tensor '{key}' has an invalid shape entry {d.GetRawText()} (header at byte offset 8)");
            shape[i++] = dim;
            try { count = checked(count * dim); }
            catch (OverflowException) { throw Corrupt(path, $"tensor '{key}' has an absurd shape (header at byte offset 8)"); }
        }

        var offsets = new long[2];
        i = 0;
        foreach (var o in offsetsElement.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out long value) || value < 0)
                throw Corrupt(path, $"tensor '{key}' has an invalid data offset {o.GetRawText()} (header at byte offset 8)");
            offsets[i++] = value;
        }
        long begin = offsets[0], end = offsets[1];
        string range = $"data_offsets [{begin.ToString(CultureInfo.InvariantCulture)}, {end.ToString(CultureInfo.InvariantCulture)}]";
        if (end < begin)
            throw Corrupt(path, $"tensor '{key}' has {range} that end before they begin");
        if (end > dataLength)
            throw Corrupt(path, $"tensor '{key}' has {range} beyond the data section: its end is byte offset " +
                              $"{(dataStart + end).ToString(CultureInfo.InvariantCulture)} but the file has " +
                              $"{(dataStart + dataLength).ToString(CultureInfo.InvariantCulture)} bytes " +
                              "(truncated file or corrupt header)");
        long expected;
        try { expected = checked(count * elementSize); }
        catch (OverflowException) { throw Corrupt(path, $"tensor '{key}' has an absurd shape (header at byte offset 8)"); }
        if (end - begin != expected)
            throw Corrupt(path, $"tensor '{key}' at byte offset {(dataStart + begin).ToString(CultureInfo.InvariantCulture)} " +
                              $"has {(end - begin).ToString(CultureInfo.InvariantCulture)} bytes but its {dtype} shape " +
                              $"{ShapeText.Format(shape)} needs {expected.ToString(CultureInfo.InvariantCulture)}");
        if (expected > Array.MaxLength)
            throw Corrupt(path, $"tensor '{key}' is larger than 2 GiB, which is not supported");
        return new Entry(key, dtype, shape, begin, end);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(handle, buffer, offset);
            if (n <= 0) throw new EndOfStreamException($"Unexpected end of file at byte offset {offset}.");
            buffer = buffer[n..];
            offset += n;
        }
    }

    internal static CompressException Corrupt(string path, string what) =>
        new(DiagnosticCode.CorruptWeights, $"Weights file '{path}' is not valid safetensors: {what}.", path,
            "Re-export the weights (safetensors or torch.save(model.state_dict(), path)), or check the download.");

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return (i < 0 ? message : message[..i]).TrimEnd('.');
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort */ }
    }
}
