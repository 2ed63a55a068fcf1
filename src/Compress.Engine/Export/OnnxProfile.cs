using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Onnx;
using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// Counts parameters and per-image multiply-accumulates of an ONNX inference graph, so compaction, the export summary
/// and the build report show what a smaller model actually saves. The file is read by the importer
/// (<see cref="OnnxImporter"/>) and measured by <see cref="ModelProfiler"/>: one shape rule and one MAC rule per op,
/// the same as for the TorchSharp model, whichever file (exported by us or by PyTorch) is measured.
/// </summary>
public static class OnnxProfile
{
    private static readonly HashSet<int> FloatTypes =
    [
        (int)TensorProto.Types.DataType.Float, (int)TensorProto.Types.DataType.Float16,
        (int)TensorProto.Types.DataType.Double, (int)TensorProto.Types.DataType.Bfloat16,
    ];

    /// <summary>Measures <paramref name="model"/> (not modified).</summary>
    /// <exception cref="CompressException">
    /// <see cref="DiagnosticCode.OnnxGraphUnsupported"/> when the graph cannot be imported (an op the importer does not
    /// read, a graph input without static C, H, W), with the importer's reason.
    /// </exception>
    public static OnnxProfileResult Measure(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new CompressException(DiagnosticCode.OnnxGraphUnsupported,
            "The ONNX model has no graph.", hint: "Export the model again.");
        ImportedOnnxModel imported;
        try
        {
            imported = OnnxImporter.Read(model, graph.Name.Length > 0 ? graph.Name : "ONNX model");
        }
        catch (CompressException e)
        {
            throw new CompressException(DiagnosticCode.OnnxGraphUnsupported, $"Cannot profile the ONNX model: {e.Message}",
                hint: "Profile an image classifier with a static C, H, W input made of the ops the importer reads.", inner: e);
        }
        var profile = ModelProfiler.Profile(imported.Graph, imported.Graph.StateShapes, imported.Input);
        var nodes = profile.Layers.Select(l => new OnnxNodeCost(l.Name, l.Kind, l.Macs, l.StateBytes / ModelProfiler.BytesPerElement, l.OutputShape)).ToList();
        long totalParameters = graph.Initializer.Where(t => FloatTypes.Contains(t.DataType)).Sum(OnnxFloatTensor.ElementCount);
        return new OnnxProfileResult(totalParameters, profile.Macs, nodes);
    }

    /// <summary>The node's name, or <c>OpType#index</c> for an unnamed node.</summary>
    internal static string NodeName(NodeProto node, int index) =>
        string.IsNullOrEmpty(node.Name) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{node.OpType}#{index}") : node.Name;
}
