using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Compress.Engine.Benchmark;

/// <summary>
/// An ONNX image classifier opened in ONNX Runtime and checked to be one: a single float32 input <c>[N, C, H, W]</c>
/// and a single float32 output <c>[N, classes]</c>. Knows its size statistics (file bytes, parameters, MACs), runs
/// batches through pre-allocated <see cref="OrtBatchRunner"/>s and measures top-1 accuracy on an
/// <see cref="IImageDataset"/> with the same normalisation the engine's training uses, so the benchmark, an accuracy
/// gate and a TorchSharp-vs-ONNX comparison all see one definition.
/// </summary>
public sealed class OrtClassifier : IDisposable
{
    private readonly InferenceSession _session;
    private bool _disposed;

    private OrtClassifier(InferenceSession session, string path, OrtSessionSettings settings, OrtDeviceKind device,
        string inputName, string outputName, ImageShape shape, int classes, int? fixedBatch, long fileBytes,
        long parameters, long? macs)
    {
        _session = session;
        FilePath = path;
        Settings = settings;
        Device = device;
        InputName = inputName;
        OutputName = outputName;
        InputShape = shape;
        Classes = classes;
        FixedBatch = fixedBatch;
        FileBytes = fileBytes;
        Parameters = parameters;
        Macs = macs;
    }

    /// <summary>The full path of the model file.</summary>
    public string FilePath { get; }

    /// <summary>The settings the session was asked for (the device actually used is <see cref="Device"/>).</summary>
    public OrtSessionSettings Settings { get; }

    /// <summary>The execution provider in use: <see cref="OrtDeviceKind.Cpu"/> after a CUDA fallback.</summary>
    public OrtDeviceKind Device { get; }

    /// <summary>Name of the image input.</summary>
    public string InputName { get; }

    /// <summary>Name of the logits output.</summary>
    public string OutputName { get; }

    /// <summary>Channels, height and width the model takes.</summary>
    public ImageShape InputShape { get; }

    /// <summary>Number of classes (logits per image).</summary>
    public int Classes { get; }

    /// <summary>The batch size when the model's batch dimension is a fixed number; null when it is symbolic.</summary>
    public int? FixedBatch { get; }

    /// <summary>Size of the model file in bytes.</summary>
    public long FileBytes { get; }

    /// <summary>Sum of the element counts of the graph's initializers.</summary>
    public long Parameters { get; }

    /// <summary>Multiply-accumulates per image of Conv/Gemm/MatMul nodes; null when shapes could not be propagated.</summary>
    public long? Macs { get; }

    /// <summary>
    /// Opens <paramref name="path"/>. Throws CMP0005 when it does not exist and CMP0504 when it is not a valid ONNX
    /// model or not a classifier (the message says why). With <see cref="OrtDeviceKind.Cuda"/> the CUDA execution
    /// provider is appended; when that fails (no GPU, missing CUDA/cuDNN, the CPU-only package) the model opens on the
    /// CPU and <paramref name="sink"/> gets warning CMP0505 with ONNX Runtime's message.
    /// </summary>
    public static OrtClassifier Load(string path, OrtSessionSettings? settings = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        settings ??= new OrtSessionSettings();
        if (settings.Threads < 0)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"Threads must be 0 (ONNX Runtime's choice) or positive (got {settings.Threads})."));
        string full = Path.GetFullPath(path);
        string file = Reporting.OutputTransaction.ReadPathOf(full);
        if (!File.Exists(file))
            throw new CompressException(DiagnosticCode.FileNotFound, $"ONNX model '{full}' does not exist.", full,
                "Check the path given to --onnx or --baseline.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.FileNotFound, $"ONNX model '{full}' could not be read: {e.Message}",
                full, "Check the file's permissions.", e);
        }
        var model = ParseModel(full, bytes);
        var (session, device) = OpenSession(full, bytes, settings, sink);
        try
        {
            var (inputName, outputName, shape, classes, fixedBatch) = Validate(full, session);
            return new OrtClassifier(session, full, settings, device, inputName, outputName, shape, classes,
                fixedBatch, bytes.LongLength, OnnxGraphStats.CountParameters(model.Graph),
                OnnxGraphStats.CountMacs(model));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A runner for <paramref name="batchSize"/> images with its buffers allocated once. CMP0504 when the model's batch
    /// dimension is fixed to another size.
    /// </summary>
    public OrtBatchRunner CreateRunner(int batchSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckBatch(batchSize);
        return new OrtBatchRunner(_session, InputName, OutputName, batchSize, InputShape, Classes);
    }

    /// <summary>Throws CMP0504 when the model's batch dimension is fixed to a size other than <paramref name="batchSize"/>.</summary>
    public void CheckBatch(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (FixedBatch is int fixedBatch && fixedBatch != batchSize)
            throw Invalid(FilePath, string.Create(CultureInfo.InvariantCulture,
                $"its batch dimension is fixed at {fixedBatch}, so it cannot run batches of {batchSize}"),
                string.Create(CultureInfo.InvariantCulture,
                    $"Export with a dynamic batch dimension, or benchmark only that batch size (--batch {fixedBatch})."));
    }

    /// <summary>
    /// Top-1 accuracy in percent on <paramref name="dataset"/>: pixels mapped by <paramref name="normalization"/>
    /// exactly as the engine's loader does (<c>(p / 255 - mean) / std</c>), batches of <paramref name="batchSize"/>
    /// (the last one padded with zeros, which are not counted), prediction = first index of the largest logit.
    /// CMP0205 when the images or labels do not fit the model.
    /// </summary>
    public double Accuracy(IImageDataset dataset, Normalization normalization, int batchSize = 32,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(normalization);
        CheckFits(dataset);
        normalization.Validate(dataset.Shape.Channels);
        if (dataset.Count == 0) return 0;
        // A model with embedded preprocessing normalises itself: it takes the raw pixel values.
        var table = Embedded
            ? Enumerable.Range(0, dataset.Shape.Channels * 256).Select(i => (float)(i % 256)).ToArray()
            : normalization.LookupTable();
        using var runner = CreateRunner(FixedBatch ?? Math.Min(batchSize, dataset.Count));
        int size = InputShape.Size;
        int plane = InputShape.Height * InputShape.Width;
        long correct = 0;
        for (int start = 0; start < dataset.Count; start += runner.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(runner.BatchSize, dataset.Count - start);
            var input = runner.Input;
            for (int i = 0; i < count; i++)
            {
                var pixels = dataset.GetPixels(start + i);
                var dest = input.Slice(i * size, size);
                for (int j = 0; j < size; j++) dest[j] = table[((j / plane) * 256) + pixels[j]];
            }
            input[(count * size)..].Clear();
            runner.Run();
            var logits = runner.Output;
            for (int i = 0; i < count; i++)
                if (ArgMax(logits.Slice(i * Classes, Classes)) == dataset.GetLabel(start + i)) correct++;
        }
        return 100.0 * correct / dataset.Count;
    }

    /// <summary>The normalisation the model's preprocessing contract records (its <c>compress.preprocess</c> metadata), or
    /// null for a file without one.</summary>
    public Normalization? RecordedNormalization => Data.Preprocessing.NormalizationFrom(_session.ModelMetadata.CustomMetadataMap);

    /// <summary>Whether the model does its own normalisation (its metadata says <c>compress.preprocess.embedded</c>).</summary>
    public bool Embedded => Data.Preprocessing.EmbeddedNormalization(_session.ModelMetadata.CustomMetadataMap) is not null;

    /// <summary>Throws CMP0205 unless <paramref name="dataset"/>'s images and classes fit this model.</summary>
    public void CheckFits(IImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Shape != InputShape || dataset.ClassCount > Classes)
            throw new CompressException(DiagnosticCode.DatasetModelMismatch, string.Create(CultureInfo.InvariantCulture,
                $"The data ({dataset.Source}: {dataset.Shape} images, {dataset.ClassCount} classes) does not fit the " +
                $"ONNX model '{FilePath}' ({InputShape} input, {Classes} classes)."), FilePath,
                "Benchmark with the dataset the model was trained on.");
    }

    /// <summary>Index of the first largest value (as PyTorch's argmax picks it for ties).</summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>Closes the session.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
    }

    private static ModelProto ParseModel(string path, byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Invalid(path, $"it is not an ONNX protobuf ({e.Message})", inner: e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw Invalid(path, "it holds no graph");
        return model;
    }

    private static (InferenceSession Session, OrtDeviceKind Device) OpenSession(string path, byte[] bytes,
        OrtSessionSettings settings, IDiagnosticSink? sink)
    {
        string? cudaProblem = null;
        if (settings.Device == OrtDeviceKind.Cuda)
        {
            using var options = CreateOptions(settings);
            try
            {
                options.AppendExecutionProvider_CUDA(0);
                return (new InferenceSession(bytes, options), OrtDeviceKind.Cuda);
            }
            // Whatever stops CUDA (the CPU-only package, no driver, missing libcudnn) must end in a CPU run, not a
            // crash: ONNX Runtime reports these as OnnxRuntimeException or as a native library load failure.
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException
                or BadImageFormatException or InvalidOperationException)
            {
                cudaProblem = e is EntryPointNotFoundException
                    ? $"this build carries the CPU-only ONNX Runtime package: {e.Message}"
                    : e.Message;
            }
        }
        InferenceSession session;
        using (var cpuOptions = CreateOptions(settings))
        {
            try
            {
                session = new InferenceSession(bytes, cpuOptions);
            }
            catch (OnnxRuntimeException e)
            {
                // A model the CPU cannot load either is the model's fault, not CUDA's: no CMP0505 then.
                throw Invalid(path, $"ONNX Runtime cannot load it ({e.Message.Trim()})", inner: e);
            }
        }
        if (cudaProblem is not null)
            sink?.Report(Diagnostic.Warning(DiagnosticCode.OrtCudaUnavailable,
                $"ONNX Runtime's CUDA execution provider could not be used ({cudaProblem.Trim()}); running on the CPU.",
                path, "Build with -p:CompressOnnxRuntime=gpu on a machine with CUDA 12 and cuDNN 9, or use --device cpu."));
        return (session, OrtDeviceKind.Cpu);
    }

    private static SessionOptions CreateOptions(OrtSessionSettings settings)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = settings.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = settings.GraphOptimizationLevel,
        };
        if (!settings.AllowSpinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    private static (string Input, string Output, ImageShape Shape, int Classes, int? FixedBatch) Validate(string path,
        InferenceSession session)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        if (inputs.Count != 1)
            throw Invalid(path, string.Create(CultureInfo.InvariantCulture,
                $"it has {inputs.Count} inputs ({string.Join(", ", inputs.Keys)}); a classifier has one image input"));
        if (outputs.Count != 1)
            throw Invalid(path, string.Create(CultureInfo.InvariantCulture,
                $"it has {outputs.Count} outputs ({string.Join(", ", outputs.Keys)}); a classifier has one logits output"));
        var (inputName, input) = inputs.First();
        var (outputName, output) = outputs.First();
        if (!input.IsTensor || input.ElementDataType != TensorElementType.Float || input.Dimensions.Length != 4
            || input.Dimensions[1..].Any(d => d <= 0))
            throw Invalid(path, $"its input '{inputName}' is {Describe(input)}, not float32 [N, C, H, W] with fixed C, H, W");
        if (!output.IsTensor || output.ElementDataType != TensorElementType.Float || output.Dimensions.Length != 2
            || output.Dimensions[1] <= 0)
            throw Invalid(path, $"its output '{outputName}' is {Describe(output)}, not float32 [N, classes] with fixed classes");
        int batch = input.Dimensions[0];
        int outBatch = output.Dimensions[0];
        if (batch > 0 && outBatch > 0 && batch != outBatch)
            throw Invalid(path, $"its input '{inputName}' {Describe(input)} and output '{outputName}' {Describe(output)} " +
                "disagree on the batch size");
        var shape = new ImageShape(input.Dimensions[1], input.Dimensions[2], input.Dimensions[3]);
        return (inputName, outputName, shape, output.Dimensions[1], batch > 0 ? batch : null);
    }

    private static string Describe(NodeMetadata meta)
    {
        if (!meta.IsTensor) return meta.OnnxValueType.ToString();
        var dims = meta.Dimensions.Select((d, i) => d > 0
            ? d.ToString(CultureInfo.InvariantCulture)
            : string.IsNullOrEmpty(meta.SymbolicDimensions[i]) ? "?" : meta.SymbolicDimensions[i]);
        return $"{meta.ElementDataType.ToString().ToLowerInvariant()} [{string.Join(", ", dims)}]";
    }

    private static CompressException Invalid(string path, string reason, string? hint = null, Exception? inner = null) =>
        new(DiagnosticCode.InvalidOnnxModel, $"'{path}' is not a valid ONNX model: {reason}.", path,
            hint ?? "Export the model again (compress export) and check the path points at the .onnx file.", inner);
}
