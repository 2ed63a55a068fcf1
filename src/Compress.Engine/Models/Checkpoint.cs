using System.Globalization;
using System.Text;
using Compress.Engine.Diagnostics;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// Loads and saves model weights. Two formats are read, recognised by their first bytes rather than the extension:
/// safetensors and PyTorch's zip <c>torch.save</c> format (<c>.pt</c>/<c>.pth</c>/<c>.bin</c>). Both are parsed in
/// managed code (no pickle code is ever executed) and fully validated before a single weight of the model changes.
/// </summary>
public static class Checkpoint
{
    private const string DataParallelPrefix = "module.";
    private const int MaxKeysInMessage = 8;

    /// <summary>
    /// Loads parameters and buffers (BatchNorm <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>)
    /// into <paramref name="model"/>, keeping each tensor's device and dtype (values are converted, e.g. float16 or
    /// float64 to float32). A PyTorch checkpoint may nest the state dict under <c>state_dict</c>,
    /// <c>model_state_dict</c>, <c>model</c> or <c>net</c>; a <c>module.</c> prefix on every key (DataParallel) is
    /// stripped. A missing <c>num_batches_tracked</c> (checkpoints from PyTorch before 0.4.1) is tolerated and left as is,
    /// as PyTorch does. Nothing is loaded unless everything checks out.
    /// </summary>
    /// <exception cref="CompressException">CMP0005 missing file; CMP0103 corrupt or unknown format; CMP0104 missing
    /// keys; CMP0105 unexpected keys; CMP0106 wrong shape (key and both shapes); CMP0108 unsupported or incompatible
    /// dtype; CMP0107 NaN or infinity (names the tensor).</exception>
    public static void Load(ClassifierModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        Load(model, path, ReadStateDict(path));
    }

    /// <summary>As <see cref="Load(ClassifierModel, string)"/> with the state dict already read from
    /// <paramref name="path"/> (named in messages).</summary>
    internal static void Load(ClassifierModel model, string path, IReadOnlyDictionary<string, TensorData> loaded)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loaded);
        var target = model.OrderedStateDict();
        Validate(path, target, loaded);

        using var noGrad = no_grad();
        foreach (var (key, tensor) in target)
        {
            if (!loaded.TryGetValue(key, out var data)) continue; // tolerated: num_batches_tracked
            using var scope = NewDisposeScope();
            var source = data.ToTensor().to(tensor.dtype);
            tensor.copy_(source);
        }
    }

    /// <summary>
    /// Writes the model's state dict (parameters and persistent buffers) as safetensors. Tensors appear in PyTorch's
    /// state-dict order (<see cref="ClassifierModel.OrderedStateDict"/>), both in the header and in the data;
    /// <c>__metadata__</c> comes first with its keys sorted; the header is padded with spaces to a multiple of 8 bytes.
    /// The same weights and metadata therefore always give byte-identical files. Written to a temporary file in the
    /// same folder, then moved over <paramref name="path"/>.
    /// </summary>
    /// <exception cref="CompressException">CMP0004 when the file cannot be written; CMP0108 for a tensor type
    /// safetensors cannot hold.</exception>
    public static void SaveSafetensors(ClassifierModel model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        var tensors = new List<(string, TensorData)>();
        foreach (var (key, tensor) in model.OrderedStateDict())
        {
            string dtype = DTypes.FromScalarType(tensor.dtype) ?? throw new CompressException(
                DiagnosticCode.UnsupportedDType, $"Tensor '{key}' has type {tensor.dtype}, which safetensors export " +
                                                 "does not support.", path, "Convert the model to float32 first.");
            using var scope = NewDisposeScope();
            var cpu = tensor.detach().cpu().contiguous();
            tensors.Add((key, new TensorData(dtype, cpu.shape, cpu.numel() == 0 ? [] : cpu.bytes.ToArray())));
        }
        SafetensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads every tensor of a safetensors file, in header order, without libtorch. Checks the header length, the
    /// JSON, dtypes, shapes and that each tensor's data lies inside the file and does not overlap another.
    /// </summary>
    /// <exception cref="CompressException">CMP0005 missing file; CMP0103 (with the byte offset) on corruption;
    /// CMP0108 unsupported dtype.</exception>
    public static IReadOnlyDictionary<string, TensorData> ReadSafetensors(string path) =>
        ToDictionary(SafetensorsFile.Read(path).Tensors);

    /// <summary>The <c>__metadata__</c> strings of a safetensors file (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string> ReadSafetensorsMetadata(string path) =>
        SafetensorsFile.Read(path).Metadata;

    /// <summary>
    /// Reads the state dict of either format (detected from the first bytes), unwrapped and with a DataParallel
    /// <c>module.</c> prefix removed, in file order; nothing is checked against a model.
    /// </summary>
    /// <exception cref="CompressException">CMP0005, CMP0103, CMP0108 as for <see cref="Load(ClassifierModel, string)"/>.</exception>
    public static IReadOnlyDictionary<string, TensorData> ReadStateDict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(Reporting.OutputTransaction.ReadPathOf(path)))
            throw new CompressException(DiagnosticCode.FileNotFound, $"Weights file '{path}' does not exist.", path,
                "Check the path.");
        if (Onnx.OnnxImporter.IsOnnxPath(path))
        {
            // The initializers of an ONNX file, under the importer's state keys (PyTorch's names where the file has them).
            var imported = Onnx.OnnxImporter.Read(path);
            return imported.State.ToDictionary(p => p.Key,
                p => new TensorData("F32", imported.Graph.StateShapes[p.Key], p.Value.Bytes.ToArray()),
                StringComparer.Ordinal);
        }
        var entries = DetectFormat(path) switch
        {
            Format.Zip => PyTorchCheckpointFile.Read(path),
            _ => SafetensorsFile.Read(path).Tensors,
        };
        if (entries.Count > 0 && entries.All(e => e.Key.StartsWith(DataParallelPrefix, StringComparison.Ordinal)))
            entries = entries.Select(e => (e.Key[DataParallelPrefix.Length..], e.Tensor)).ToList();
        return ToDictionary(entries);
    }

    private enum Format { Zip, Safetensors }

    private static Format DetectFormat(string path)
    {
        var head = new byte[16];
        int n;
        using (var stream = File.OpenRead(Reporting.OutputTransaction.ReadPathOf(path))) n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K') return Format.Zip;
        if (n >= 9 && head[8] == (byte)'{') return Format.Safetensors;
        if (n >= 2 && head[0] == 0x80 && head[1] is >= 1 and <= 5)
            throw new CompressException(DiagnosticCode.CorruptWeights,
                $"Weights file '{path}' uses PyTorch's legacy (pre-1.6, non-zip) torch.save format, which is not supported.",
                path, "Load it in PyTorch and re-save with torch.save(model.state_dict(), path), or export safetensors.");
        var hex = new StringBuilder();
        for (int i = 0; i < Math.Min(n, 8); i++) hex.Append(head[i].ToString("x2", CultureInfo.InvariantCulture)).Append(' ');
        throw new CompressException(DiagnosticCode.CorruptWeights,
            $"Weights file '{path}' is neither safetensors nor a PyTorch zip checkpoint " +
            (n < 9 ? $"(it is only {n.ToString(CultureInfo.InvariantCulture)} bytes long)."
                   : $"(it starts with bytes {hex.ToString().TrimEnd()} at byte offset 0)."),
            path, "Use safetensors or a state dict saved with torch.save(model.state_dict(), path).");
    }

    private static void Validate(string path, IReadOnlyList<(string Key, Tensor Value)> target,
        IReadOnlyDictionary<string, TensorData> loaded)
    {
        var expected = target.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var missing = target.Select(t => t.Key)
            .Where(k => !loaded.ContainsKey(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        var unexpected = loaded.Keys.Where(k => !expected.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new CompressException(DiagnosticCode.MissingKeys,
                $"Weights file '{path}' lacks {Count(missing.Count, "tensor")} the model needs: {List(missing)}" +
                (unexpected.Count > 0 ? $"; it has {Count(unexpected.Count, "key")} the model does not know: {List(unexpected)}" : "") +
                ".", path, "Check that the architecture, width multiplier and class count match the checkpoint.");
        if (unexpected.Count > 0)
            throw new CompressException(DiagnosticCode.UnexpectedKeys,
                $"Weights file '{path}' has {Count(unexpected.Count, "key")} the model does not know: {List(unexpected)}.",
                path, "Check that the architecture, width multiplier and class count match the checkpoint.");

        var mismatches = new List<string>();
        foreach (var (key, tensor) in target)
        {
            if (!loaded.TryGetValue(key, out var data)) continue;
            if (!data.Shape.SequenceEqual(tensor.shape))
                mismatches.Add($"'{key}' is {ShapeText.Format(data.Shape)} in the file but {ShapeText.Format(tensor.shape)} in the model");
        }
        if (mismatches.Count > 0)
            throw new CompressException(DiagnosticCode.ShapeMismatch,
                $"Weights file '{path}' does not fit the model: {Count(mismatches.Count, "tensor")} with the wrong shape: " +
                string.Join("; ", mismatches.Take(MaxKeysInMessage)) +
                (mismatches.Count > MaxKeysInMessage ? "; ..." : "") + ".",
                path, "Check that the architecture, width multiplier and class count match the checkpoint.");

        foreach (var (key, tensor) in target)
        {
            if (!loaded.TryGetValue(key, out var data)) continue;
            bool floatTarget = is_floating_point(tensor);
            bool ok = floatTarget ? DTypes.IsFloatingPoint(data.DType) : DTypes.IsInteger(data.DType);
            if (!ok)
                throw new CompressException(DiagnosticCode.UnsupportedDType,
                    $"Tensor '{key}' in '{path}' is {data.DType}, but the model needs " +
                    (floatTarget ? "a floating-point type (F32, F16, BF16 or F64)." : "an integer type (I64)."),
                    path, "Save float32 weights and int64 BatchNorm counters, as torch.save does.");
        }

        var nonFinite = new List<string>();
        foreach (var (key, _) in target)
        {
            if (!loaded.TryGetValue(key, out var data)) continue;
            long at = data.IndexOfNonFinite();
            if (at >= 0)
            {
                double value = data.ToDoubleArray()[at];
                nonFinite.Add(FormattableString.Invariant(
                    $"'{key}' has {(double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity")} at element {at} of {data.ElementCount}"));
            }
        }
        if (nonFinite.Count > 0)
            throw new CompressException(DiagnosticCode.NonFiniteWeights,
                $"Weights file '{path}' contains non-finite values: {string.Join("; ", nonFinite.Take(MaxKeysInMessage))}" +
                (nonFinite.Count > MaxKeysInMessage ? "; ..." : "") + ".",
                path, "Retrain (the run probably diverged) or fix the checkpoint.");
    }

    private static Dictionary<string, TensorData> ToDictionary(IEnumerable<(string Key, TensorData Tensor)> entries)
    {
        // Insertion order is kept: file order.
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (key, tensor) in entries) result[key] = tensor;
        return result;
    }

    private static string Count(int n, string noun) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");

    private static string List(List<string> keys) =>
        string.Join(", ", keys.Take(MaxKeysInMessage).Select(k => "'" + k + "'")) +
        (keys.Count > MaxKeysInMessage ? FormattableString.Invariant($" and {keys.Count - MaxKeysInMessage} more") : "");
}
