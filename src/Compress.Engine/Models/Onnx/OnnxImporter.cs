using System.Globalization;
using System.Security.Cryptography;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Runtime;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// Brings an ONNX CNN classifier in as a <see cref="ClassifierModel"/>: float32 models at opsets 11 to 21, one input
/// <c>[batch, C, H, W]</c> (C, H and W fixed) and one output <c>[batch, classes]</c>. Identity and Dropout nodes are
/// dropped, Constant nodes and the integer shape computations of a dynamic-batch export are folded, weights reached
/// through Identity/Transpose/Reshape are traced to their initializer (and stay trainable), several-op patterns
/// become one node (<c>OnnxImport.Ops.cs</c>), and nodes nothing reads are dropped. A BatchNorm-kept file gives
/// trainable BatchNorms; a folded one gives convolutions with bias. State keys are the initializers' names where they
/// are PyTorch state-dict keys (<c>layer1.0.conv1.weight</c>), so a <c>--weights</c> file of the same names loads.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Lowest default-domain opset imported.</summary>
    public const int MinOpset = 11;

    /// <summary>Highest default-domain opset imported.</summary>
    public const int MaxOpset = 21;

    /// <summary>Images in the import check (<see cref="Verify"/>) when the file's batch is not fixed.</summary>
    public const int VerificationBatch = 2;

    /// <summary>Whether <paramref name="model"/> names an ONNX file rather than a built-in architecture.</summary>
    public static bool IsOnnxPath(string? model) =>
        model is not null && model.Trim().EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads and converts the file at <paramref name="path"/> (no TorchSharp or ONNX Runtime involved).</summary>
    /// <exception cref="CompressException">CMP0005 when the file does not exist; CMP0504 when it is not ONNX or not a
    /// CNN classifier; CMP0110-CMP0113 and CMP0115 for what the importer does not support.</exception>
    public static ImportedOnnxModel Read(string path)
    {
        // Parsed from the file (no copy of its bytes beside the parsed model) and hashed as a stream.
        using var stream = Open(path);
        var model = Parse(() => ModelProto.Parser.ParseFrom(stream), path);
        stream.Position = 0;
        return Read(model, path, sha256: Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant());
    }

    /// <summary>Converts <paramref name="bytes"/>, an ONNX file read from <paramref name="path"/>.</summary>
    public static ImportedOnnxModel Read(byte[] bytes, string path)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Read(Parse(() => ModelProto.Parser.ParseFrom(bytes), path), path, bytes);
    }

    /// <summary>Runs <paramref name="parse"/>; CMP0504 naming <paramref name="path"/> when the bytes are not ONNX.</summary>
    private static ModelProto Parse(Func<ModelProto> parse, string path)
    {
        try
        {
            return parse();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CompressException(DiagnosticCode.InvalidOnnxModel,
                $"'{path}' is not a valid ONNX model (corrupt or truncated): {e.Message}", path,
                "Export the model again; check the file is the .onnx your app loads.", inner: e);
        }
    }

    /// <summary>Converts a parsed model; <paramref name="bytes"/> (its file, for the origin's hash) may be null, or the
    /// hash given as <paramref name="sha256"/>.</summary>
    internal static ImportedOnnxModel Read(ModelProto model, string path, byte[]? bytes = null, string? sha256 = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        if (graph is null || graph.Node.Count == 0)
            throw new CompressException(DiagnosticCode.InvalidOnnxModel, $"'{path}' is not an ONNX model with a graph (empty or not ONNX).", path,
                "Export the model again; check the file is the .onnx your app loads.");

        var opsets = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).ToList();
        int opset = opsets.Count == 0 ? 1 : (int)opsets.Max();
        if (opset is < MinOpset or > MaxOpset)
            throw new CompressException(DiagnosticCode.UnsupportedOnnxOpset,
                $"ONNX model '{path}' has opset {opset.ToString(CultureInfo.InvariantCulture)}; the importer reads opsets {MinOpset} to {MaxOpset}.", path,
                "Export at opset 13 or 17 (torch.onnx.export(..., opset_version=17)).");

        var histogram = graph.Node.GroupBy(n => n.OpType, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var import = new OnnxImport(path, opset, histogram);

        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
            throw import.Invalid($"it has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => "'" + i.Name + "'"))}); a classifier has one image input");
        if (graph.Output.Count != 1)
            throw import.Invalid($"it has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => "'" + o.Name + "'"))}); a classifier has one logits output");
        var input = inputs[0];
        var tensorType = input.Type?.TensorType;
        if (tensorType is null || tensorType.ElemType != (int)TensorProto.Types.DataType.Float)
            throw new CompressException(DiagnosticCode.OnnxNonFloatWeights,
                $"ONNX model '{path}': the input '{input.Name}' is {(tensorType is null ? "not a tensor" : ((TensorProto.Types.DataType)tensorType.ElemType).ToString())}, not float32.", path,
                "Import a float32 model (before quantization or half-precision conversion).");
        var dims = tensorType.Shape?.Dim.ToList() ?? [];
        if (dims.Count != 4 || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue < 1))
            throw import.Invalid($"its input '{input.Name}' has shape {DimsText(dims)}, not [batch, C, H, W] with C, H and W fixed");
        string batchName = dims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && dims[0].DimParam.Length > 0
            ? dims[0].DimParam
            : OnnxExporter.BatchDimension;
        if (dims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue) import.FixBatch(dims[0].DimValue);
        var shape = new InputShape(checked((int)dims[1].DimValue), checked((int)dims[2].DimValue), checked((int)dims[3].DimValue));
        var origin = new OnnxOrigin(path, input.Name, graph.Output[0].Name, batchName, opset,
            sha256 ?? Convert.ToHexString(SHA256.HashData(bytes ?? model.ToByteArray())).ToLowerInvariant())
        {
            Metadata = model.MetadataProps.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            OpHistogram = histogram,
        };
        return import.Convert(graph, input.Name, shape, graph.Output[0].Name, origin);
    }

    /// <summary>
    /// The per-image shape (batch left out) of every value of <paramref name="model"/> the importer can derive, by ONNX
    /// value name; empty when the model cannot be imported.
    /// </summary>
    internal static Dictionary<string, long[]> ValueShapes(ModelProto model)
    {
        try
        {
            return Read(model, model.Graph?.Name ?? "ONNX model").ValueShapes.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        }
        catch (CompressException)
        {
            return new Dictionary<string, long[]>(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// Imports <paramref name="path"/> as a model on the CPU with the file's weights, and checks it: its logits in
    /// TorchSharp must match ONNX Runtime's on the original file (<see cref="Verify"/>).
    /// </summary>
    /// <exception cref="CompressException">As <see cref="Read(string)"/>; CMP0114 when the check fails.</exception>
    public static ClassifierModel Load(string path, bool verify = true)
    {
        var model = Create(Read(path));
        try
        {
            if (verify)
            {
                // The parsed file is garbage once the model holds the weights: free it before ONNX Runtime reads the
                // file itself, so a large model's peak memory stays low (measured in docs/benchmarks.md).
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var reference = RunReference(options => new InferenceSession(path, options), path, seed: 0)
                    ?? throw new CompressException(DiagnosticCode.InvalidOnnxModel, $"ONNX Runtime cannot run '{path}' as an image classifier.", path,
                        "Check that the file runs in ONNX Runtime (the app's own runtime) before compressing it.");
                Compare(model, reference);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The model of <paramref name="imported"/> with its weights, on the CPU.</summary>
    public static ClassifierModel Create(ImportedOnnxModel imported)
    {
        ArgumentNullException.ThrowIfNull(imported);
        TorchRuntime.EnsureLoaded();
        var options = new ModelOptions { Architecture = imported.Origin.Path, Classes = imported.Classes };
        // The modules' random initialisation is overwritten at once; it must not shift torch's global generator, so
        // that an import leaves the seeded randomness of what follows as it was.
        ClassifierModel model;
        using (var saved = TorchSharp.torch.random.get_rng_state())
        {
            model = new ClassifierModel(options, imported.Input, imported.Graph)
            {
                Origin = imported.Origin, StateSources = imported.Sources, FixedBatch = imported.FixedBatch,
            };
            TorchSharp.torch.random.set_rng_state(saved);
        }
        try
        {
            var tensors = model.OrderedStateDict().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            using var noGrad = no_grad();
            foreach (var (key, values) in imported.State)
            {
                // Straight from the file's bytes into the parameter's storage (a fresh, contiguous CPU float32 tensor).
                values.Bytes.CopyTo(tensors[key].bytes);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="model"/> (evaluation mode, no gradients) and ONNX Runtime on <paramref name="onnxBytes"/> on
    /// the same seeded batch and compares the logits.
    /// </summary>
    /// <exception cref="CompressException">CMP0114 when the relative difference exceeds
    /// <see cref="OnnxVerifier.ParityTolerance"/>; CMP0504 when ONNX Runtime cannot run the file.</exception>
    public static ParityResult Verify(ClassifierModel model, byte[] onnxBytes, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(onnxBytes);
        var origin = model.Origin ?? throw new ArgumentException("The model was not imported from ONNX.", nameof(model));
        var reference = RunReference(options => new InferenceSession(onnxBytes, options), origin.Path, seed)
            ?? throw new CompressException(DiagnosticCode.InvalidOnnxModel, $"ONNX Runtime cannot run '{origin.Path}'.", origin.Path,
                "Check that the file runs in ONNX Runtime (the app's own runtime) before compressing it.");
        return Compare(model, reference);
    }

    /// <summary>ONNX Runtime's logits for the seeded verification batch, with that batch.</summary>
    private sealed record Reference(float[] Input, long[] Shape, float[] Logits, int Seed, OnnxRuntimeException? Failure);

    /// <summary>
    /// Runs ONNX Runtime on the file for the verification batch (<see cref="VerificationBatch"/> images, or the file's
    /// fixed batch, uniform in [-1, 1) from a torch generator seeded with <paramref name="seed"/>). Null when the
    /// session's input is not an image batch (the importer then says what is wrong); a failed run is kept to report
    /// once the file is known to be importable.
    /// </summary>
    private static Reference? RunReference(Func<SessionOptions, InferenceSession> open, string path, int seed)
    {
        try
        {
            // A check, not a deployment: basic graph optimisation, no weight pre-packing and no memory arena keep the
            // session's memory near the file's size.
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                EnableCpuMemArena = false,
                EnableMemoryPattern = false,
            };
            options.AddSessionConfigEntry("session.disable_prepacking", "1");
            using var session = open(options);
            if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1) return null;
            var (inputName, metadata) = session.InputMetadata.First();
            int[] dims = metadata.Dimensions;
            if (dims.Length != 4 || dims.Skip(1).Any(d => d < 1) || metadata.ElementType != typeof(float)) return null;
            long[] shape = [dims[0] > 0 ? dims[0] : VerificationBatch, dims[1], dims[2], dims[3]];
            float[] input;
            using (NewDisposeScope())
            {
                var generator = new TorchSharp.torch.Generator((ulong)seed);
                input = rand(shape, generator: generator).mul(2).sub(1).data<float>().ToArray();
            }
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [inputName], [inputValue], [session.OutputMetadata.Keys.First()]);
            return new Reference(input, shape, outputs[0].GetTensorDataAsSpan<float>().ToArray(), seed, null);
        }
        catch (OnnxRuntimeException e)
        {
            return new Reference([], [], [], seed, e);
        }
    }

    /// <summary>The imported model's logits on the reference batch against ONNX Runtime's; CMP0114 beyond the tolerance.</summary>
    private static ParityResult Compare(ClassifierModel model, Reference reference)
    {
        var origin = model.Origin!;
        if (reference.Failure is { } failure)
            throw new CompressException(DiagnosticCode.InvalidOnnxModel,
                $"ONNX Runtime cannot run '{origin.Path}': {failure.Message}", origin.Path,
                "Check that the file runs in ONNX Runtime (the app's own runtime) before compressing it.", inner: failure);
        float[] expected;
        bool wasTraining = model.training;
        using (NewDisposeScope())
        {
            var x = tensor(reference.Input, reference.Shape);
            model.eval();
            try
            {
                using var noGrad = no_grad();
                expected = model.call(x).contiguous().data<float>().ToArray();
            }
            finally
            {
                model.train(wasTraining);
            }
        }
        float[] actual = reference.Logits;
        int batch = (int)reference.Shape[0];
        if (actual.Length != expected.Length)
            throw Mismatch(origin, $"ONNX Runtime returned {actual.Length} logits where the import gives {expected.Length}");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            if (!(diff <= maxDiff)) maxDiff = diff; // NaN fails
            maxRef = Math.Max(maxRef, Math.Abs((double)actual[i]));
        }
        var result = new ParityResult(batch, maxDiff, maxRef, maxDiff / Math.Max(maxRef, 1e-6));
        if (!(result.MaxRelativeDifference <= OnnxVerifier.ParityTolerance))
            throw Mismatch(origin, string.Create(CultureInfo.InvariantCulture,
                $"on {batch} seeded images (seed {reference.Seed}) the imported graph's logits differ from ONNX Runtime's: max |a-b| = {result.MaxAbsoluteDifference:G6}, max |b| = {result.MaxReference:G6}, relative {result.MaxRelativeDifference:G6} > {OnnxVerifier.ParityTolerance:G3}"));
        return result;
    }

    private static CompressException Mismatch(OnnxOrigin origin, string why) =>
        new(DiagnosticCode.OnnxImportMismatch, $"ONNX model '{origin.Path}' did not import faithfully: {why}.", origin.Path,
            "Nothing was trained on it. Report the model (its op histogram is in the error of --verbose runs).");

    private static FileStream Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Reporting.OutputTransaction.ReadPathOf(path);
        if (!File.Exists(file))
            throw new CompressException(DiagnosticCode.FileNotFound, $"ONNX model '{path}' does not exist.", path,
                "Check the path (relative paths are relative to the current folder, or to the spec file in a spec).");
        try
        {
            return new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.InvalidOnnxModel, $"ONNX model '{path}' cannot be read: {e.Message}", path,
                "Check that the file is readable.", inner: e);
        }
    }

    private static string DimsText(IEnumerable<TensorShapeProto.Types.Dimension> dims) =>
        "[" + string.Join(", ", dims.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        })) + "]";
}
