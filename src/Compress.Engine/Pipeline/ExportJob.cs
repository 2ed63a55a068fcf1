using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>
/// What <c>compress export</c> does: load weights, export to ONNX, validate the graph, check parity in ONNX Runtime,
/// and only then write the file atomically, so a file at the output path is always a verified export.
/// </summary>
public static class ExportJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        /// <summary>Architecture, width and classes the weights were trained with.</summary>
        public ModelOptions Model { get; init; } = new();

        /// <summary>Weights file (safetensors or PyTorch state dict).</summary>
        public required string Weights { get; init; }

        /// <summary>The <c>.onnx</c> file to write (replaced atomically when it exists).</summary>
        public required string Output { get; init; }

        /// <summary>Fold BatchNorm into the convolutions; default true.</summary>
        public bool FoldBatchNorm { get; init; } = true;

        /// <summary>ONNX opset (11 to 21); default null: an imported model's own, else 17.</summary>
        public int? Opset { get; init; }

        /// <summary>Seed of the random parity batch; default 0.</summary>
        public int ParitySeed { get; init; }

        /// <summary>Images in the parity batch; default 4.</summary>
        public int ParityBatch { get; init; } = 4;

        /// <summary>
        /// Remove output channels whose whole folded filter and bias are zero, with the matching input channels of their
        /// consumers, where that is exact (see <see cref="OnnxCompactor"/>); default false.
        /// </summary>
        public bool Compact { get; init; }

        /// <summary>Extra metadata props (e.g. how the model was pruned); merged over the standard ones.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    }

    /// <summary>Exports, verifies and writes; returns what was written.</summary>
    /// <exception cref="CompressException">Weights errors (01xx), CMP0501 to CMP0503 for export, validation and parity
    /// failures (nothing is written then), CMP0004 when the file cannot be written.</exception>
    public static ExportResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        using var model = ModelLoader.Create(options.Model, options.Weights, CPU, seed: 0);
        model.eval();
        cancellationToken.ThrowIfCancellationRequested();
        var export = new OnnxExportOptions
        {
            FoldBatchNorm = options.FoldBatchNorm,
            Opset = options.Opset,
            Metadata = StandardMetadata(model, options.Weights, options.FoldBatchNorm, options.Metadata),
        };
        var proto = OnnxExporter.Export(model, export);
        cancellationToken.ThrowIfCancellationRequested();
        return VerifyAndWrite(model, proto, options.Output, options.FoldBatchNorm, options.Compact, options.ParityBatch,
            options.ParitySeed);
    }

    /// <summary>
    /// The metadata every export carries: architecture (an imported model's file name, never its path: the artifact is
    /// shipped, and the same inputs give the same bytes in any checkout), classes, width, BatchNorm folding, engine
    /// version and the SHA-256 of the source weights file, then <paramref name="extra"/> (which wins on equal keys).
    /// </summary>
    internal static Dictionary<string, string> StandardMetadata(ClassifierModel model, string weightsPath, bool foldedBatchNorm,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var metadata = new Dictionary<string, string>
        {
            ["compress.architecture"] = model.Options.IsOnnx ? Path.GetFileName(model.Options.Architecture) : model.Options.Architecture,
            ["compress.batchnorm_folded"] = foldedBatchNorm ? "true" : "false",
            ["compress.classes"] = model.Options.Classes.ToString(CultureInfo.InvariantCulture),
            ["compress.width_multiplier"] = model.Options.WidthMultiplier.ToString("R", CultureInfo.InvariantCulture),
            ["compress.engine_version"] = OnnxExporter.ProducerVersion,
            ["compress.source_weights_sha256"] = Sha256(weightsPath),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) metadata[key] = value;
        return metadata;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(Reporting.OutputTransaction.ReadPathOf(path));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>
    /// Validates <paramref name="proto"/>, checks its parity against <paramref name="model"/> and writes it to
    /// <paramref name="output"/>; on any failure nothing is written (an existing file stays as it was).
    /// </summary>
    internal static ExportResult VerifyAndWrite(ClassifierModel model, ModelProto proto, string output, bool foldedBatchNorm,
        bool compact = false, int parityBatch = 4, int paritySeed = 0)
    {
        CompactionSummary? compaction = null;
        if (compact)
        {
            OnnxVerifier.Validate(proto);
            var compacted = OnnxCompactor.Compact(proto);
            proto = compacted.Model;
            compaction = CompactionSummary.From(compacted);
        }
        OnnxVerifier.Validate(proto);
        byte[] bytes = proto.ToByteArray();
        var parity = OnnxVerifier.CheckParity(model, bytes, parityBatch, paritySeed);
        OnnxExporter.Write(proto, output);
        int opset = proto.OpsetImport.Where(o => o.Domain.Length == 0).Select(o => (int)o.Version).FirstOrDefault();
        return new ExportResult(Path.GetFullPath(output), bytes.LongLength, model.ParameterCount(),
            parity.MaxRelativeDifference, parity.MaxAbsoluteDifference, opset, foldedBatchNorm)
        {
            Compaction = compaction,
            Macs = OnnxProfile.Measure(proto).Macs,
        };
    }
}
