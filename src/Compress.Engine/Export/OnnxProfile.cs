using Compress.Engine.Diagnostics;
using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// Counts parameters and per-image multiply-accumulates of an exported inference graph, so compaction (and later
/// <c>compress profile</c>) can report what a smaller model actually saves. Conventions follow the EfficientML lab's
/// profiler: Conv = Cout * (Cin/groups) * kH * kW * Hout * Wout, Gemm = in * out, BatchNormalization = one MAC per
/// output element, GlobalAveragePool = one MAC per output element (as torchprofile counts the mean), Relu/MaxPool/Add/
/// Flatten = 0; <see cref="Benchmark.ModelProfiler"/> counts the TorchSharp model the same way. Shapes are propagated from the graph input's C, H, W.
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
    /// <see cref="DiagnosticCode.OnnxGraphUnsupported"/> when a Conv, Gemm or BatchNormalization has no derivable
    /// input shape (an unknown operator upstream, or a graph input without static C, H, W).
    /// </exception>
    public static OnnxProfileResult Measure(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new CompressException(DiagnosticCode.OnnxGraphUnsupported,
            "The ONNX model has no graph.", hint: "Export the model again.");
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var shapes = OnnxStaticShapes.Infer(graph);
        var nodes = new List<OnnxNodeCost>(graph.Node.Count);
        long totalMacs = 0;
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            var name = NodeName(node, i);
            long parameters = 0;
            foreach (var input in node.Input.Distinct())
            {
                if (initializers.TryGetValue(input, out var t) && FloatTypes.Contains(t.DataType))
                    parameters += OnnxFloatTensor.ElementCount(t);
            }
            var output = node.Output.Count > 0 && shapes.TryGetValue(node.Output[0], out var s) ? s : [];
            long macs = 0;
            if (node.OpType is "Conv" or "Gemm" or "BatchNormalization" or "GlobalAveragePool")
            {
                if (output.Length == 0)
                {
                    throw new CompressException(DiagnosticCode.OnnxGraphUnsupported,
                        $"Cannot derive the shape of node '{name}' ({node.OpType}) input '{(node.Input.Count > 0 ? node.Input[0] : "")}', so its MACs are unknown.",
                        hint: "Profile graphs made of Conv, Relu, MaxPool, GlobalAveragePool, Add, Flatten, Gemm and BatchNormalization with a static C, H, W input.");
                }
                macs = node.OpType switch
                {
                    "Conv" => ConvMacs(node, initializers, output),
                    "Gemm" => GemmMacs(node, initializers),
                    _ => output.Aggregate(1L, (a, b) => a * b),
                };
            }
            totalMacs += macs;
            nodes.Add(new OnnxNodeCost(name, node.OpType, macs, parameters, output));
        }
        long totalParameters = graph.Initializer.Where(t => FloatTypes.Contains(t.DataType)).Sum(OnnxFloatTensor.ElementCount);
        return new OnnxProfileResult(totalParameters, totalMacs, nodes);
    }

    /// <summary>The node's name, or <c>OpType#index</c> for an unnamed node.</summary>
    internal static string NodeName(NodeProto node, int index) =>
        string.IsNullOrEmpty(node.Name) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{node.OpType}#{index}") : node.Name;

    private static long ConvMacs(NodeProto node, Dictionary<string, TensorProto> initializers, long[] output)
    {
        var w = initializers[node.Input[1]].Dims;
        // Cout * (Cin/groups) * kH * kW per output position; the weight already stores Cin/groups.
        return w[0] * w[1] * w[2] * w[3] * output[1] * output[2];
    }

    private static long GemmMacs(NodeProto node, Dictionary<string, TensorProto> initializers)
    {
        var w = initializers[node.Input[1]].Dims;
        return w[0] * w[1];
    }
}
